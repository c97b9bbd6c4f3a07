"""JSON API of sharing, in the style of creations/api.py: the owner's shares of a draft,
and the comments of the people it is shared with. Someone else's draft, or one not shared
with the caller, answers as an unknown id does."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from creations.api import api_login_required, error, not_found, read_body
from creations.validation import RequestProblem, object_with_only

from . import selectors, services
from .models import Comment, Share
from .services import NotFound, SharingRefused


def moment(value) -> str | None:
    return value.isoformat() if value else None


def share_as_json(share: Share, *, url: str | None = None) -> dict:
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
    if share.kind == Share.Kind.LINK:
        # Only its hash is stored: the URL is in the answer that made it, never again.
        body["url"] = url
        body["opened_by"] = sorted(opening.user.username for opening in share.openings.all())
    return body


def comment_as_json(comment: Comment, *, user) -> dict:
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


@never_cache
@require_http_methods(["GET", "POST"])
@api_login_required
def shares(request: HttpRequest, creation_id) -> JsonResponse:
    """GET: the owner's shares of the draft. POST {"username"} or {"link": true,
    "expires_at"}: a new share, 201."""
    creation = selectors.owned_creation(owner=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    if request.method == "GET":
        return JsonResponse(
            {"shares": [share_as_json(share) for share in selectors.shares_of(creation)]}
        )
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


@require_http_methods(["DELETE"])
@api_login_required
def share(request: HttpRequest, creation_id, share_id) -> HttpResponse:
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


@never_cache
@require_http_methods(["GET", "POST"])
@api_login_required
def comments(request: HttpRequest, creation_id) -> JsonResponse:
    """GET: the thread, for the owner and the people it is shared with. POST {"text"}: a
    comment, 201 (429 beyond the per-minute allowance)."""
    creation = selectors.viewable_draft(user=request.user, creation_id=creation_id)
    if creation is None:
        return not_found()
    if request.method == "GET":
        thread = selectors.thread(creation)
        for comment in thread:
            comment.creation = creation
        return JsonResponse(
            {"comments": [comment_as_json(comment, user=request.user) for comment in thread]}
        )
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


@require_http_methods(["DELETE"])
@api_login_required
def comment(request: HttpRequest, creation_id, comment_id) -> HttpResponse:
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
