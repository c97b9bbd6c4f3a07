"""Reads: the bell's count, a page of notifications, and where one leads."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.urls import NoReverseMatch, reverse

from creations.models import Creation
from phoenix.paging import cursor_for, parse_cursor
from sharing.selectors import can_view

from . import registry
from .models import Notification, NotificationPreferences

PAGE_SIZE = 20
Kind = Notification.Kind
# The sharing app's page of a shared draft, by name; until it exists, a shared draft's
# notification leads to the notifications page.
SHARED_DRAFT_URL_NAME = "shared_draft"
# The accounts app's page of the data exports, by name.
ACCOUNT_DATA_URL_NAME = "account_data"
# The webhooks settings page (webhooks app, above this one: named, not imported).
WEBHOOK_SETTINGS_URL_NAME = "webhook_settings"


def unread_count(user: AbstractBaseUser) -> int:
    """One COUNT over the partial index of unread notifications."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def unread_count_sql(user_param: str) -> str:
    """The same COUNT as SQL for a raw statement that reads other figures with it:
    `user_param` is the placeholder of the user's id."""
    # The table name from model metadata; the id is the caller's bound parameter.
    return (
        f"(SELECT count(*) FROM {Notification._meta.db_table} "  # nosec B608
        f"WHERE recipient_id = {user_param} AND read_at IS NULL)"
    )


@dataclass
class NotificationPage:
    items: list[Notification] = field(default_factory=list)
    next_cursor: str | None = None


class BadCursor(ValueError):
    pass


def notifications_page(
    *, user: AbstractBaseUser, before: str | None = None, size: int = PAGE_SIZE
) -> NotificationPage:
    """The user's notifications, newest first, `size` at a time; `before` is the cursor a
    previous page gave (keyset: stable while new ones arrive at the top). Raises BadCursor
    for a cursor that is not one."""
    rows = Notification.objects.filter(recipient_id=user.pk)
    if before:
        after = parse_cursor(before)
        if after is None:
            raise BadCursor(before)
        moment, pk = after
        rows = rows.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    # With their creations and owners: what they say is built from those (presenters).
    rows = rows.select_related("creation__owner")
    found = list(rows.order_by("-created_at", "-id")[: size + 1])
    items = found[:size]
    next_cursor = None
    if len(found) > size:
        next_cursor = cursor_for(items[-1].created_at, items[-1].pk)
    return NotificationPage(items=items, next_cursor=next_cursor)


def notification_of(*, user: AbstractBaseUser, notification_id) -> Notification | None:
    """The user's own notification, or None (someone else's answers alike)."""
    if not user.is_authenticated:
        return None
    return (
        Notification.objects.filter(pk=notification_id, recipient_id=user.pk)
        .select_related("creation__owner")
        .first()
    )


def shared_draft_url(creation_id) -> str | None:
    try:
        return reverse(SHARED_DRAFT_URL_NAME, args=[creation_id])
    except NoReverseMatch:
        return None


def _owner_url(creation: Creation) -> str:
    """Where the owner finds their creation now: its post page once published, else its
    card on the drafts tab (or in the trash)."""
    profile = reverse("profile", args=[creation.owner.get_username()])
    if creation.is_trashed:
        return f"{profile}?tab=trash#creation-{creation.pk}"
    if creation.status in Creation.POSTS_TAB:
        return reverse("post", args=[creation.pk])
    return f"{profile}?tab=drafts#creation-{creation.pk}"


def target_url(notification: Notification, user: AbstractBaseUser) -> str | None:
    """Where opening a notification leads, decided when it is opened (the creation may
    have been published, moved to the trash or unshared since). None: a draft that is no
    longer shared with the user — nothing left to show them."""
    if notification.kind == Kind.EXPORT_READY:
        return reverse(ACCOUNT_DATA_URL_NAME)
    if notification.kind == Kind.WEBHOOK_DISABLED:
        return reverse(WEBHOOK_SETTINGS_URL_NAME)
    registered = registry.registered(notification.kind)
    if registered is not None:
        return registered.url(notification)
    if notification.kind in (Kind.TOKENS_ADDED, Kind.TOKENS_REMOVED):
        # The history says why (a staff adjustment's reason) and what the balance is now.
        return reverse("token_history")
    creation = notification.creation
    own = creation.owner_id == user.pk
    if notification.kind == Kind.POST_COMMENT and creation.is_public:
        return reverse("post", args=[creation.pk]) + f"#comment-{notification.comment_id}"
    if notification.kind not in (Kind.DRAFT_SHARED, Kind.COMMENT):
        return _owner_url(creation)
    url = shared_draft_url(creation.pk)
    if url is None or not can_view(creation=creation, user=user):
        return _owner_url(creation) if own else None
    if notification.comment_id:
        url += f"#comment-{notification.comment_id}"
    return url


def preferences_of(user: AbstractBaseUser) -> NotificationPreferences:
    """The user's e-mail choices: their row, or the defaults (all off) without writing one."""
    return NotificationPreferences.objects.filter(user=user).first() or NotificationPreferences(
        user=user
    )
