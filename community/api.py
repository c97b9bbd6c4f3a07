"""JSON API of the community, declared once on its router (docs/api-declaration.md): a post
as the public sees it, likes, comments on posts, follows, Explore and public search.
Errors are {"error", "message"}; a refused write changes nothing."""

import json
from datetime import datetime
from functools import partial
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from pydantic import Field

from phoenix import jsonapi
from phoenix.jsonapi import Model, NotFound, Router, bad_request, body, error, refused, signed_in

from . import selectors, services, throttle
from .models import COMMENT_MAX
from .presenters import comment_as_json, post_as_json, posts_as_json

router = Router(tags=["community"])
POST = "/posts/{uuid:creation_id}"

# A domain refusal's code → its HTTP status (the services carry no HTTP).
STATUS_OF = {
    "not_found": 404,
    "not_allowed": 403,
    "cannot_follow_yourself": 400,
    "invalid_comment": 400,
    "malformed_json": 400,
    "empty_comment": 422,
    "comment_too_long": 422,
}


class Post(Model):
    """A public post as anyone sees it (community.presenters.post_as_json)."""

    id: UUID = Field(description="The post's id: its creation's id.")
    url: str
    author: str
    type: jsonapi.literal(["image", "video"])
    prompt: str
    caption: str
    media_url: str | None
    poster_url: str | None
    width: int | None
    height: int | None
    duration_seconds: float | None
    published_at: datetime | None
    like_count: int = Field(ge=0)
    liked: bool = Field(description="Whether the caller likes it.")
    comment_count: int = Field(ge=0)


class PostPage(Model):
    results: list[Post]
    next_cursor: str | None


class PostComment(Model):
    id: UUID
    author: str
    text: str
    created_at: datetime
    can_delete: bool


class PostComments(Model):
    results: list[PostComment]
    next_cursor: str | None
    comment_count: int = Field(ge=0)


class CommentText(Model):
    text: str = Field(max_length=COMMENT_MAX, description="Plain text, 1–1,000 characters.")


class Liked(Model):
    liked: bool
    like_count: int = Field(ge=0)


class Following(Model):
    username: str
    following: bool
    follower_count: int = Field(ge=0)


PostNotFound = refused(
    "PostNotFound",
    ["not_found"],
    description="No such post, or it is not public (unpublished, trashed, taken down).",
)
TooManyWrites = refused(
    "TooManySocialWrites",
    ["too_many_writes"],
    description=(
        "Over PHOENIX_SOCIAL_WRITES_PER_MINUTE for the account or "
        "PHOENIX_SOCIAL_WRITES_PER_NETWORK_PER_MINUTE for its network."
    ),
    retry_after=int,
)
RETRY_AFTER = jsonapi.headers(429, jsonapi.retry_after())


def query(name: str, description: str, **schema) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


CURSOR = query("cursor", "The next_cursor of the page before.")


def refused_answer(problem: services.SocialRefused) -> JsonResponse:
    return jsonapi.refusal_error(problem, STATUS_OF)


def too_many(seconds: int) -> JsonResponse:
    response = error(
        429,
        "too_many_writes",
        f"Too many likes, follows or comments in a minute; try again in {seconds} s.",
        retry_after=seconds,
    )
    response["Retry-After"] = str(seconds)
    return response


def post_not_found() -> JsonResponse:
    return error(404, "not_found", "No such post.")


def _body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeError, RecursionError):
        raise services.SocialRefused("malformed_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise services.SocialRefused("malformed_json", "The body must be a JSON object.")
    return data


@router.get(
    "/posts",
    operation_id="api_posts",
    url_name="api_posts",
    summary="Public posts, newest first; with q, a search of them",
    response={200: PostPage},
    openapi_extra={
        "parameters": [
            query(
                "q",
                "Words (websearch syntax) or a part of a word, in captions and prompts.",
                maxLength=200,
            ),
            CURSOR,
        ]
    },
)
@never_cache
def posts(request: HttpRequest) -> JsonResponse:
    """Public posts: `q` searches their prompts and captions; without it, the feed."""
    q = selectors.clean_query(request.GET.get("q"))
    cursor = request.GET.get("cursor")
    if q:
        page = selectors.search_page(q=q, viewer=request.user, cursor=cursor)
    else:
        page = selectors.feed_page(viewer=request.user, cursor=cursor)
    return jsonapi.page_answer(page, posts_as_json(page.items))


@router.get(
    "/explore",
    operation_id="api_explore",
    url_name="api_explore",
    summary="Public posts ranked by likes, with time decay",
    response={200: PostPage},
    openapi_extra={"parameters": [CURSOR]},
)
@never_cache
def explore(request: HttpRequest) -> JsonResponse:
    """Highest score first: each like and the first publication count 2^(-age / half-life)."""
    page = selectors.explore_page(viewer=request.user, cursor=request.GET.get("cursor"))
    return jsonapi.page_answer(page, posts_as_json(page.items))


@router.get(
    POST,
    operation_id="api_post",
    url_name="api_post",
    summary="A post as the public sees it",
    response={200: Post, 404: PostNotFound},
)
@never_cache
def post_detail(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    post = selectors.public_post(creation_id)
    if post is None:
        return post_not_found()
    liked = bool(selectors.liked_among(user=request.user, posts=[post]))
    return JsonResponse(post_as_json(post, liked=liked))


def _social_write(
    request: HttpRequest, write, answer, *, status: int = 200, **target
) -> JsonResponse:
    """A like, a follow (set or unset) or a comment: within the allowance of the account and
    its network, `write(**target)`, its result shaped by `answer` (or the refusal's answer)."""
    wait = throttle.social_write_refused(request)
    if wait is not None:
        return too_many(wait)
    try:
        result = write(**target)
    except services.SocialRefused as problem:
        return refused_answer(problem)
    return JsonResponse(answer(result), status=status)


def _liked(result) -> dict:
    return {"liked": result.liked, "like_count": result.like_count}


def _like(request: HttpRequest, creation_id: UUID, write) -> JsonResponse:
    return _social_write(request, write, _liked, user=request.user, post_id=creation_id)


# A like's two operations: one path, the same answers.
LIKE = {
    "path": POST + "/like",
    "url_name": "api_post_like",
    "auth": signed_in("publish"),
    "response": {200: Liked, 404: PostNotFound, 429: TooManyWrites},
    "openapi_extra": RETRY_AFTER,
}


@router.post(operation_id="api_post_like", summary="Like a post (idempotent)", **LIKE)
def post_like(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    return _like(request, creation_id, services.post_like)


@router.delete(operation_id="api_post_unlike", summary="Take a like back (idempotent)", **LIKE)
def post_unlike(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    return _like(request, creation_id, services.post_unlike)


@router.get(
    POST + "/comments",
    operation_id="api_post_comments_list",
    url_name="api_post_comments",
    summary="A post's comments, oldest first",
    response={200: PostComments, 404: PostNotFound},
    openapi_extra={"parameters": [CURSOR]},
)
@never_cache
def post_comments(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """Deleted comments and deactivated authors' are left out."""
    post = selectors.public_post(creation_id)
    if post is None:
        return post_not_found()
    page = selectors.comments_page(post=post, cursor=request.GET.get("cursor"))
    comments = [comment_as_json(c, viewer=request.user) for c in page.items]
    return jsonapi.page_answer(page, comments, comment_count=post.comment_count)


@router.post(
    POST + "/comments",
    operation_id="api_post_comments_create",
    url_name="api_post_comments",
    summary="Comment on a post (its owner is told)",
    auth=signed_in("publish"),
    response={
        201: PostComment,
        400: bad_request("PostCommentProblem", ["malformed_json", "invalid_comment"]),
        404: PostNotFound,
        422: refused(
            "PostCommentRejected",
            ["empty_comment", "comment_too_long"],
            description="Blank or too long.",
        ),
        429: TooManyWrites,
    },
    openapi_extra=jsonapi.merged(body(CommentText), RETRY_AFTER),
)
def post_comment_create(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    post = selectors.public_post(creation_id)
    if post is None:
        return post_not_found()
    try:
        text = _body(request).get("text")
        services.clean_comment(text)  # a refused comment costs no allowance
    except services.SocialRefused as problem:
        return refused_answer(problem)
    return _social_write(
        request,
        services.comment_post,
        partial(comment_as_json, viewer=request.user),
        status=201,
        author=request.user,
        post_id=post.pk,
        text=text,
    )


@router.delete(
    POST + "/comments/{uuid:post_comment_id}",
    operation_id="api_post_comment_delete",
    url_name="api_post_comment",
    summary="Delete a comment (its author, or the post's owner)",
    auth=signed_in("publish"),
    response={
        204: None,
        403: refused(
            "NotTheirComment", ["not_allowed"], description="Neither its author nor the owner."
        ),
        404: NotFound,
    },
)
def post_comment_delete(
    request: HttpRequest, creation_id: UUID, post_comment_id: UUID
) -> HttpResponse:
    post = selectors.public_post(creation_id)
    comment = selectors.find_comment(post=post, comment_id=post_comment_id) if post else None
    if comment is None:
        return error(404, "not_found", "No such comment.")
    try:
        services.comment_delete(user=request.user, comment=comment)
    except services.SocialRefused as problem:
        return refused_answer(problem)
    return HttpResponse(status=204)


def _following(result) -> dict:
    return {
        "username": result.creator.get_username(),
        "following": result.following,
        "follower_count": result.followers,
    }


def _follow(request: HttpRequest, username: str, write) -> JsonResponse:
    return _social_write(request, write, _following, follower=request.user, username=username)


@router.post(
    "/users/{str:username}/follow",
    operation_id="api_user_follow",
    url_name="api_user_follow",
    summary="Follow a creator (idempotent)",
    auth=signed_in("publish"),
    response={
        200: Following,
        400: bad_request("FollowProblem", ["cannot_follow_yourself"], with_field=False),
        404: NotFound,
        429: TooManyWrites,
    },
    openapi_extra=RETRY_AFTER,
)
def user_follow(request: HttpRequest, username: str) -> JsonResponse:
    return _follow(request, username, services.creator_follow)


@router.delete(
    "/users/{str:username}/follow",
    operation_id="api_user_unfollow",
    url_name="api_user_follow",
    summary="Stop following a creator (idempotent)",
    auth=signed_in("publish"),
    response={200: Following, 404: NotFound, 429: TooManyWrites},
    openapi_extra=RETRY_AFTER,
)
def user_unfollow(request: HttpRequest, username: str) -> JsonResponse:
    return _follow(request, username, services.creator_unfollow)
