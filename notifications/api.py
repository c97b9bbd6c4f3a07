"""JSON API: the signed-in creator's notifications, and marking them read."""

from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from creations.api import api_login_required, error, read_body
from creations.presenters import moment
from creations.validation import RequestProblem, object_with_only

from . import selectors, services
from .presenters import ShownNotification, present


def notification_as_json(shown: ShownNotification) -> dict:
    notification = shown.notification
    return {
        "id": str(notification.pk),
        "kind": notification.kind,
        "text": shown.text,
        "creation_id": str(notification.creation_id) if notification.creation_id else None,
        "comment_id": str(notification.comment_id) if notification.comment_id else None,
        "created_at": moment(notification.created_at),
        "read": notification.read_at is not None,
        "read_at": moment(notification.read_at),
        "open_url": reverse("notification_open", args=[notification.pk]),
    }


@never_cache
@require_GET
@api_login_required
def notifications_list(request: HttpRequest) -> JsonResponse:
    """Newest first, a page at a time: `next` is the URL of the older ones (?before=)."""
    try:
        page = selectors.notifications_page(user=request.user, before=request.GET.get("before"))
    except selectors.BadCursor:
        return error(400, "bad_cursor", "The 'before' value is not one this API gave.")
    next_url = None
    if page.next_cursor:
        next_url = reverse("api_notifications") + f"?before={page.next_cursor}"
    return JsonResponse(
        {
            "notifications": [
                notification_as_json(shown) for shown in present(page.items, reader=request.user)
            ],
            "unread": selectors.unread_count(request.user),
            "next": next_url,
        }
    )


def parse_read_request(data) -> list[UUID] | None:
    """{"ids": [...]} → those ids; {"all": true} → None (all of them)."""
    object_with_only(data, {"ids", "all"})
    if ("ids" in data) == ("all" in data):
        raise RequestProblem("ids_or_all", 'Send either "ids" (a list) or "all": true.')
    if "all" in data:
        if data["all"] is not True:
            raise RequestProblem("ids_or_all", '"all" must be true.', "all")
        return None
    ids = data["ids"]
    limit = settings.PHOENIX_BULK_MAX
    if not isinstance(ids, list) or not ids:
        raise RequestProblem("invalid_ids", '"ids" must be a non-empty list of ids.', "ids")
    if len(ids) > limit:
        raise RequestProblem("too_many_ids", f"At most {limit} ids at once.", "ids")
    try:
        return [UUID(value) for value in ids]
    except (TypeError, ValueError, AttributeError):
        raise RequestProblem("invalid_ids", '"ids" must be notification ids.', "ids") from None


@require_POST
@api_login_required
def notifications_read(request: HttpRequest) -> JsonResponse:
    """Mark some (ids that are not the caller's match nothing) or all read; answers how many
    changed and the new unread count. A bad request changes nothing."""
    try:
        ids = parse_read_request(read_body(request))
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    marked = services.notifications_mark_read(user=request.user, ids=ids)
    return JsonResponse({"marked": marked, "unread": selectors.unread_count(request.user)})
