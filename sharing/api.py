"""JSON API of sharing, in the style of creations/api.py: the owner's shares of a draft,
and the comments of the people it is shared with. Someone else's draft, or one not shared
with the caller, answers as an unknown id does."""

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations.api import not_found, read_body
from creations.validation import RequestProblem, object_with_only
from phoenix import jsonapi
from phoenix.jsonapi import Model, Router, bad_request, body, error, literal, refused, signed_in

from . import models, selectors, services
from .services import NotFound, SharingRefused

router = Router(tags=["sharing"])
ITEM = "/creations/{uuid:creation_id}"
BODY_PROBLEMS = ("malformed_json", "malformed_request", "unknown_field")


class Share(Model):
    """A share of a draft (sharing.api.share_as_json): with a creator, or as a link. A
    link's url is in the answer that made it, never again (only its hash is kept)."""

    share_id: UUID
    kind: literal(models.Share.Kind.values)
    username: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    active: bool
    url: str | None = None
    opened_by: list[str] = None


class Comment(Model):
    """A comment on a shared draft (sharing.api.comment_as_json)."""

    comment_id: UUID
    author: str
    text: str = Field(description="Empty once deleted.")
    deleted: bool
    created_at: datetime
    can_delete: bool


class Shares(Model):
    shares: list[Share]


class Comments(Model):
    comments: list[Comment]


class SharePerson(Model):
    username: str = Field(min_length=1, max_length=150)


class ShareLink(Model):
    link: literal([True])
    expires_at: datetime = Field(
        None, description="With its offset, after now and at most a year ahead."
    )


class CommentText(Model):
    text: str = Field(
        max_length=models.COMMENT_MAX,
        description="Trimmed; a line break counts as one character.",
    )


def moment(value) -> str | None:
    return value.isoformat() if value else None


def share_as_json(share: models.Share, *, url: str | None = None) -> dict:
    body = {
        "share_id": str(share.id),
        "kind": share.kind,
        "username": share.recipient.username if share.recipient_id else None,
        "created_at": moment(share.created_at),
        "expires_at": moment(share.expires_at),
        "revoked_at": moment(share.revoked_at),
        "revoked_reason": share.revoked_reason or None,
        "active": share.is_active,
    }
    if share.kind == models.Share.Kind.LINK:
        # Only its hash is stored: the URL is in the answer that made it, never again.
        body["url"] = url
        body["opened_by"] = sorted(opening.user.username for opening in share.openings.all())
    return body


def comment_as_json(comment: models.Comment, *, user) -> dict:
    return {
        "comment_id": str(comment.id),
        "author": comment.author.username,
        "text": comment.text,
        "deleted": comment.is_deleted,
        "created_at": moment(comment.created_at),
        "can_delete": not comment.is_deleted
        and user.pk in (comment.author_id, comment.creation.owner_id),
    }


def refusal_response(refusal: SharingRefused) -> JsonResponse:
    headers = {}
    if "retry_after" in refusal.extra:
        headers["Retry-After"] = str(refusal.extra["retry_after"])
    return JsonResponse(
        {"error": refusal.code, "message": refusal.message}, status=refusal.status, headers=headers
    )


def read_object(request: HttpRequest, allowed: set[str]) -> dict:
    return object_with_only(read_body(request), allowed)


@router.get(
    ITEM + "/shares",
    operation_id="api_creation_shares_list",
    url_name="api_creation_shares",
    summary="The owner's shares of a draft",
    auth=signed_in("read"),
    response={200: Shares, 404: jsonapi.NotFound},
)
@never_cache
def shares_list(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """Active shares first, then those that ended."""
    creation = selectors.owned_creation(owner=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    return JsonResponse(
        {"shares": [share_as_json(share) for share in selectors.shares_of(creation)]}
    )


@router.post(
    ITEM + "/shares",
    operation_id="api_creation_shares_create",
    url_name="api_creation_shares",
    summary="Share a draft with a creator, or make a link to it",
    auth=signed_in("publish"),
    response={
        201: Share,
        400: bad_request(
            "ShareProblem",
            [
                *BODY_PROBLEMS,
                "username_or_link",
                "username_required",
                "invalid_link",
                "field_not_allowed",
                "invalid_expires_at",
            ],
        ),
        404: jsonapi.NotFound,
        409: refused(
            "NotShareable",
            ["not_shareable"],
            description="Only a draft (not in the trash) can be shared.",
        ),
        403: refused(
            "NotAccepted",
            ["not_accepted"],
            description="That creator does not accept shares from the owner.",
        ),
        422: refused(
            "ShareRefused",
            ["unknown_user", "own_draft", "already_shared"],
            description="No active creator by that name, the owner themself, or shared with "
            "them already.",
        ),
        429: refused(
            "TooManyShares",
            ["too_many_shares"],
            description="Beyond the owner's shares per hour (PHOENIX_SHARES_PER_HOUR).",
        ),
    },
    # A form can name a person; `"link": true` needs JSON.
    openapi_extra=jsonapi.merged(
        body(SharePerson, ShareLink, form=SharePerson),
        jsonapi.headers(429, jsonapi.retry_after()),
    ),
)
@never_cache
def shares_create(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """The new share (a link's with its url, shown once)."""
    creation = selectors.owned_creation(owner=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    try:
        data = read_object(request, {"username", "link", "expires_at"})
        if ("username" in data) == ("link" in data):
            raise RequestProblem(
                "username_or_link", 'Send either a username or "link": true.', None
            )
        if "link" in data:
            if data["link"] is not True:
                raise RequestProblem("invalid_link", '"link" must be true.', "link")
            expires_at = services.parse_expires_at(data.get("expires_at"))
            new = services.share_link_create(creation=creation, expires_at=expires_at)
            url = request.build_absolute_uri(reverse("share_link", args=[new.token]))
            return JsonResponse(share_as_json(new.share, url=url), status=201)
        if "expires_at" in data:
            raise RequestProblem(
                "field_not_allowed", "'expires_at' applies to a link only.", "expires_at"
            )
        share = services.share_with_person(
            creation=creation, owner=request.user, username=data["username"]
        )
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except SharingRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(share_as_json(share), status=201)


@router.delete(
    ITEM + "/shares/{uuid:share_id}",
    operation_id="api_creation_share_revoke",
    url_name="api_creation_share",
    summary="Revoke a share",
    auth=signed_in("publish"),
    response={204: None, 404: jsonapi.NotFound},
)
def share(request: HttpRequest, creation_id: UUID, share_id: UUID) -> HttpResponse:
    """Revoke one share: 204, effective on the next request (also when already ended)."""
    creation = selectors.owned_creation(owner=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    try:
        found = services.find_share(creation=creation, share_id=share_id)
    except NotFound as missing:
        return refusal_response(missing)
    services.share_revoke(share=found)
    return HttpResponse(status=204)


@router.get(
    ITEM + "/comments",
    operation_id="api_creation_comments_list",
    url_name="api_creation_comments",
    summary="The comments of a shared draft",
    auth=signed_in("read"),
    response={200: Comments, 404: jsonapi.NotFound},
)
@never_cache
def comments_list(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """For the draft's owner and the people it is shared with, oldest first; deleted ones
    stay in the thread, without their words."""
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    thread = selectors.thread(creation)
    for comment in thread:
        comment.creation = creation
    return JsonResponse(
        {"comments": [comment_as_json(comment, user=request.user) for comment in thread]}
    )


@router.post(
    ITEM + "/comments",
    operation_id="api_creation_comments_create",
    url_name="api_creation_comments",
    summary="Comment on a shared draft",
    auth=signed_in("publish"),
    response={
        201: Comment,
        400: bad_request("CommentProblem", [*BODY_PROBLEMS, "text_required", "invalid_text"]),
        404: jsonapi.NotFound,
        422: refused(
            "CommentRejected",
            ["text_required", "text_too_long", "invalid_text"],
            description="Blank, too long, or with a null character.",
        ),
        429: refused(
            "TooManyComments",
            ["too_many_comments"],
            description="Beyond the per-minute allowance of comments.",
        ),
    },
    openapi_extra=jsonapi.merged(
        body(CommentText, form=True), jsonapi.headers(429, jsonapi.retry_after())
    ),
)
@never_cache
def comments_create(request: HttpRequest, creation_id: UUID) -> JsonResponse:
    """A comment, 201 (429 beyond the per-minute allowance)."""
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    try:
        data = read_object(request, {"text"})
        if "text" not in data:
            raise RequestProblem("text_required", "Send the comment's text.", "text")
        comment = services.comment_post(creation=creation, author=request.user, text=data["text"])
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    except SharingRefused as refusal:
        return refusal_response(refusal)
    return JsonResponse(comment_as_json(comment, user=request.user), status=201)


@router.delete(
    ITEM + "/comments/{uuid:comment_id}",
    operation_id="api_creation_comment_delete",
    url_name="api_creation_comment",
    summary="Delete a comment (its author, or the draft's owner)",
    auth=signed_in("publish"),
    response={204: None, 404: jsonapi.NotFound},
)
def comment(request: HttpRequest, creation_id: UUID, comment_id: UUID) -> HttpResponse:
    """Delete a comment: its author, or the draft's owner. 204."""
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    try:
        found = services.find_comment(creation=creation, comment_id=comment_id)
        services.comment_delete(comment=found, user=request.user)
    except NotFound as missing:
        return refusal_response(missing)
    return HttpResponse(status=204)
