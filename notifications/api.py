"""JSON API: the signed-in creator's notifications, and marking them read."""

from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from pydantic import Field

from creations.api import read_body
from creations.presenters import moment
from creations.validation import RequestProblem, object_with_only
from phoenix.jsonapi import Model, Router, bad_request, body, error, literal, signed_in

from . import selectors, services
from .models import Notification as NotificationRow
from .presenters import ShownNotification, present

router = Router(tags=["notifications"])


class Notification(Model):
    """A notification (notifications.api.notification_as_json)."""

    id: UUID
    kind: literal(NotificationRow.Kind.values)
    text: str
    # Null for news about the account itself (a data export is ready).
    creation_id: UUID | None
    comment_id: UUID | None
    created_at: datetime
    read: bool
    read_at: datetime | None
    open_url: str = Field(description="Marks it read and goes to it.")


class Page(Model):
    notifications: list[Notification]
    unread: int = Field(ge=0)
    next: str | None


class MarkSome(Model):
    ids: list[UUID] = Field(
        min_length=1,
        max_length=settings.PHOENIX_BULK_MAX,
        description="Ids that are not the caller's match nothing.",
    )


class MarkAll(Model):
    all: literal([True])


class Marked(Model):
    marked: int = Field(ge=0)
    unread: int = Field(ge=0)


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


@router.get(
    "/notifications",
    operation_id="api_notifications",
    url_name="api_notifications",
    summary="The caller's notifications, newest first, a page at a time",
    auth=signed_in("read"),
    response={200: Page, 400: bad_request("BadCursor", ["bad_cursor"], with_field=False)},
    openapi_extra={
        "parameters": [
            {
                "name": "before",
                "in": "query",
                "required": False,
                "description": "The cursor a previous page's `next` carries.",
                "schema": {"type": "string"},
            }
        ]
    },
)
@never_cache
def notifications_list(request: HttpRequest) -> JsonResponse:
    """One page; `next` is the URL of the older ones (?before=, null on the last page)."""
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


@router.post(
    "/notifications/read",
    operation_id="api_notifications_read",
    url_name="api_notifications_read",
    summary="Mark some notifications read, or all of them",
    auth=signed_in("read"),
    response={
        200: Marked,
        400: bad_request(
            "MarkProblem",
            ["malformed_json", "malformed_request", "unknown_field", "ids_or_all", "invalid_ids"]
            + ["too_many_ids"],
        ),
    },
    openapi_extra=body(MarkSome, MarkAll),
)
def notifications_read(request: HttpRequest) -> JsonResponse:
    """Mark some (ids that are not the caller's match nothing) or all read; answers how many
    changed and the new unread count. A bad request changes nothing."""
    try:
        ids = parse_read_request(read_body(request))
    except RequestProblem as problem:
        return error(400, problem.code, problem.message, field=problem.field)
    marked = services.notifications_mark_read(user=request.user, ids=ids)
    return JsonResponse({"marked": marked, "unread": selectors.unread_count(request.user)})
