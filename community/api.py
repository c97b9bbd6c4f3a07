"""JSON API of the community: a post as the public sees it, likes, comments on posts,
follows, Explore and public search. Plain function views, as creations/api.py (errors
{"error", "message"}; a refused write changes nothing)."""

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from phoenix.jsonapi import api_login_required, error

from . import selectors, services, throttle
from .presenters import comment_as_json, post_as_json, posts_as_json

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


def refused(problem: services.SocialRefused) -> JsonResponse:
    return error(STATUS_OF.get(problem.code, 400), problem.code, problem.message)


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


@require_GET
def post_detail(request: HttpRequest, creation_id) -> JsonResponse:
    post = selectors.public_post(creation_id)
    if post is None:
        return post_not_found()
    liked = bool(selectors.liked_among(user=request.user, posts=[post]))
    return JsonResponse(post_as_json(post, liked=liked))


@require_http_methods(["POST", "DELETE"])
@api_login_required
def post_like(request: HttpRequest, creation_id) -> JsonResponse:
    """POST likes, DELETE takes the like back; both idempotent."""
    wait = throttle.social_write_refused(request)
    if wait is not None:
        return too_many(wait)
    write = services.post_like if request.method == "POST" else services.post_unlike
    try:
        result = write(user=request.user, post_id=creation_id)
    except services.SocialRefused as problem:
        return refused(problem)
    return JsonResponse({"liked": result.liked, "like_count": result.like_count})


@require_http_methods(["GET", "POST"])
def post_comments(request: HttpRequest, creation_id) -> JsonResponse:
    post = selectors.public_post(creation_id)
    if post is None:
        return post_not_found()
    if request.method == "GET":
        page = selectors.comments_page(post=post, cursor=request.GET.get("cursor"))
        return JsonResponse(
            {
                "results": [comment_as_json(c, viewer=request.user) for c in page.items],
                "next_cursor": page.next_cursor,
                "comment_count": post.comment_count,
            }
        )
    if not request.user.is_authenticated:
        return error(401, "authentication_required", "Log in to do this.")
    try:
        text = _body(request).get("text")
        services.clean_comment(text)  # a refused comment costs no allowance
    except services.SocialRefused as problem:
        return refused(problem)
    wait = throttle.social_write_refused(request)
    if wait is not None:
        return too_many(wait)
    try:
        comment = services.comment_post(author=request.user, post_id=post.pk, text=text)
    except services.SocialRefused as problem:
        return refused(problem)
    return JsonResponse(comment_as_json(comment, viewer=request.user), status=201)


@require_http_methods(["DELETE"])
@api_login_required
def post_comment_delete(request: HttpRequest, creation_id, post_comment_id) -> HttpResponse:
    post = selectors.public_post(creation_id)
    comment = selectors.find_comment(post=post, comment_id=post_comment_id) if post else None
    if comment is None:
        return error(404, "not_found", "No such comment.")
    try:
        services.comment_delete(user=request.user, comment=comment)
    except services.SocialRefused as problem:
        return refused(problem)
    return HttpResponse(status=204)


@require_http_methods(["POST", "DELETE"])
@api_login_required
def user_follow(request: HttpRequest, username: str) -> JsonResponse:
    wait = throttle.social_write_refused(request)
    if wait is not None:
        return too_many(wait)
    write = services.creator_follow if request.method == "POST" else services.creator_unfollow
    try:
        result = write(follower=request.user, username=username)
    except services.SocialRefused as problem:
        return refused(problem)
    return JsonResponse(
        {
            "username": result.creator.get_username(),
            "following": result.following,
            "follower_count": result.followers,
        }
    )


@require_GET
def explore(request: HttpRequest) -> JsonResponse:
    page = selectors.explore_page(viewer=request.user, cursor=request.GET.get("cursor"))
    return JsonResponse({"results": posts_as_json(page.items), "next_cursor": page.next_cursor})


@require_GET
def posts(request: HttpRequest) -> JsonResponse:
    """Public posts: `q` searches their prompts and captions; without it, the feed."""
    q = selectors.clean_query(request.GET.get("q"))
    cursor = request.GET.get("cursor")
    if q:
        page = selectors.search_page(q=q, viewer=request.user, cursor=cursor)
    else:
        page = selectors.feed_page(viewer=request.user, cursor=cursor)
    return JsonResponse({"results": posts_as_json(page.items), "next_cursor": page.next_cursor})
