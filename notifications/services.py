"""Writing notifications: once per event and person, only for the person it concerns, and
read marks; their e-mail, sent by a job.

Once per event: every notification names the event's object (`object_key`, see
`event_key`: a comment's id, a share's, a published post's id with its publication time,
else the creation's id), and (recipient, kind, object_key) is unique in the database. The
listeners run after COMMIT in web requests and in work horses alike, so a job retried or
recovered, or a signal sent twice, meets the row the first one wrote and writes nothing —
nor queues a second e-mail, which goes only with the row that was written.

A row keeps no words of the draft or of a comment: presenters builds what it says when it
is read.

Who is told: a creation's events tell its owner only; a share tells its recipient; a
comment tells the draft's owner and everyone who commented on it and may still see it,
never its author — from a job (`comment_notify`), since a thread may have many.

Seen on the card: see `creation_seen`.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from creations import versions
from creations.models import Creation
from sharing.models import Comment
from sharing.selectors import open_comments, users_reached

from . import presenters
from .emails import wants_email
from .jobs.sending import comment_notify_enqueue, notification_email_enqueue
from .models import Notification, NotificationPreferences

log = logging.getLogger(__name__)

Kind = Notification.Kind
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------------
# Writing them.


def published_key(creation: Creation) -> str:
    """A publication is one event: the creation and the moment it went out (a post
    unpublished and published again is a second one). Whole microseconds since the epoch,
    exact (no float), read from the committed row by the listener and the card poll alike."""
    if creation.published_at is None:
        return str(creation.pk)
    return f"{creation.pk}:{(creation.published_at - EPOCH) // timedelta(microseconds=1)}"


_FIELDS = Notification._meta.concrete_fields
_COLUMNS = ", ".join(connection.ops.quote_name(f.column) for f in _FIELDS)
_INSERT_ONCE_SQL = f"""
INSERT INTO {Notification._meta.db_table} ({_COLUMNS})
VALUES ({", ".join(["%s"] * len(_FIELDS))})
ON CONFLICT (recipient_id, kind, object_key) DO NOTHING
RETURNING id
"""  # nosec B608 # table and column names from model metadata; every value is a bound parameter


def _insert_once(notification: Notification) -> bool:
    """Write the row unless its event's row is there: True when this call wrote it. One
    statement (get_or_create took four round trips: a SELECT, then a savepoint around the
    INSERT; this runs once per finished job)."""
    values = [f.get_db_prep_save(f.pre_save(notification, True), connection) for f in _FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_ONCE_SQL, values)
        written = cursor.fetchone() is not None
    if written:
        notification._state.adding = False
        notification._state.db = connection.alias
    return written


def notification_create(
    *,
    recipient_id: int,
    kind: str,
    creation: Creation | None,
    object_key: str | None = None,
    comment_id=None,
    amount: int | None = None,
) -> Notification | None:
    """The notification of one event for one person, written once. `object_key` names the
    event (default: the comment, else the creation). Returns the row when this call wrote
    it; None when it was already there (a retried job, a signal sent twice, or the card
    poll that showed the creator the result first)."""
    notification = Notification(
        recipient_id=recipient_id,
        kind=kind,
        object_key=object_key or str(comment_id or creation.pk),
        creation=creation,
        comment_id=comment_id,
        amount=amount,
    )
    if not _insert_once(notification):
        return None
    versions.bell_changed([recipient_id])
    if wants_email(notification, creation):
        transaction.on_commit(lambda: notification_email_enqueue(notification))
    return notification


# The card poll shows the owner that a creation ended: (what the card showed before, what it
# shows now) → the notification that news would have been.
SEEN_ON_CARD = {
    **{(shown, Creation.Status.DRAFT): Kind.CREATION_FINISHED for shown in Creation.IN_FLIGHT},
    **{(shown, Creation.Status.FAILED): Kind.CREATION_FAILED for shown in Creation.IN_FLIGHT},
    (Creation.Status.SCHEDULED, Creation.Status.PUBLISHED): Kind.POST_PUBLISHED,
}


_SEEN_SQL = f"""
WITH seen AS (
  INSERT INTO {Notification._meta.db_table}
    (id, recipient_id, kind, creation_id, object_key, text, amount, created_at, read_at)
  VALUES (%s, %s, %s, %s, %s, '', %s, %s, %s)
  ON CONFLICT (recipient_id, kind, object_key)
    DO UPDATE SET read_at = COALESCE({Notification._meta.db_table}.read_at, EXCLUDED.read_at)
)
SELECT count(*) FROM {Notification._meta.db_table}
WHERE recipient_id = %s AND read_at IS NULL AND NOT (kind = %s AND object_key = %s)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def on_card_news_seen(sender, *, owner, creation, shown: str, **kwargs) -> int | None:
    return creation_seen(owner=owner, creation=creation, shown=shown)


def creation_seen(*, owner: AbstractBaseUser, creation: Creation, shown: str) -> int | None:
    """The owner's card poll has just shown them that `creation` finished, failed, or (a
    scheduled card) was published: they saw the news, so its notification is read.

    The rule: a notification is written when the event happens, wherever the creator is;
    it is marked read when the owner's own card poll renders that final state (the drafts
    tab was open on it), so the bell counts it only if they were elsewhere. Written as one
    upsert, so the order of the two does not matter: when the poll comes first (the job's
    COMMIT is seen before its listeners have run), the row is written here already read,
    and the event's own insert then finds it and writes nothing — and sends no e-mail.
    Both name the event alike (`published_key` for a publication).

    Returns the unread count after it, for the bell the poll refreshes (None when the card
    showed no such news). One statement: the statement's snapshot does not see its own
    upsert, so the count leaves that row out."""
    kind = SEEN_ON_CARD.get((shown, creation.status))
    if kind is None or creation.owner_id != owner.pk:
        return None
    amount = None
    if kind == Kind.CREATION_FAILED and getattr(creation, "refunded", 0):
        amount = creation.cost
    key = published_key(creation) if kind == Kind.POST_PUBLISHED else str(creation.pk)
    now = timezone.now()
    params = [uuid.uuid4(), owner.pk, kind, creation.pk, key, amount, now, now]
    with connection.cursor() as cursor:
        cursor.execute(_SEEN_SQL, [*params, owner.pk, kind, key])
        unread = cursor.fetchone()[0]
    versions.bell_changed([owner.pk])
    return unread


def notifications_mark_read(*, user: AbstractBaseUser, ids: Iterable | None = None) -> int:
    """Mark the user's unread notifications read: those of `ids` (others' ids and unknown
    ones match nothing), or all of them. Returns how many changed."""
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    marked = unread.update(read_at=timezone.now())
    if marked:
        versions.bell_changed([user.pk])
    return marked


def notification_open(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        opened = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
        if opened:
            versions.bell_changed([notification.recipient_id])


def preferences_update(
    *,
    user: AbstractBaseUser,
    email_video_finished: bool,
    email_draft_shared: bool,
    email_tokens: bool = False,
) -> NotificationPreferences:
    """Save the e-mail choices: one row per user, written the first time they save."""
    preferences, _ = NotificationPreferences.objects.update_or_create(
        user=user,
        defaults={
            "email_video_finished": email_video_finished,
            "email_draft_shared": email_draft_shared,
            "email_tokens": email_tokens,
        },
    )
    return preferences


# ---------------------------------------------------------------------------------------
# The listeners (connected in apps.py). They run after COMMIT; a failure is logged by the
# sender (send_robust) and never reaches the creator's request or the job.


def on_creation_event(sender, *, event: str, creation: Creation, details=None, **kwargs) -> None:
    """A creation's events tell its owner, and only for news they did not make themselves:
    it is ready, it failed (told with its refund: the "refunded" event of a failed creation,
    written in the same transaction as the failure), a scheduled post went out (once per
    publication: unpublished and published again is news again)."""
    details = details or {}
    owner_id = creation.owner_id
    if event == "completed":
        notification_create(recipient_id=owner_id, kind=Kind.CREATION_FINISHED, creation=creation)
    elif event == "refunded" and creation.status == Creation.Status.FAILED:
        notification_create(
            recipient_id=owner_id,
            kind=Kind.CREATION_FAILED,
            creation=creation,
            amount=details.get("amount"),
        )
    elif event == "published" and details.get("scheduled"):
        notification_create(
            recipient_id=owner_id,
            kind=Kind.POST_PUBLISHED,
            creation=creation,
            object_key=published_key(creation),
        )


def on_draft_shared(sender, *, share, **kwargs) -> None:
    """A draft shared with a person tells that person (a link share names nobody) — once
    per share: shared again after a revoke is news again."""
    recipient_id = getattr(share, "recipient_id", None)
    creation = share.creation
    if recipient_id is None or recipient_id == creation.owner_id:
        return
    notification_create(
        recipient_id=recipient_id,
        kind=Kind.DRAFT_SHARED,
        creation=creation,
        object_key=str(share.pk),
    )


def on_comment_posted(sender, *, comment, **kwargs) -> None:
    """A comment's notifications are written by a job (comment_notify): however many took
    part in the thread, the request that posted it does not wait for them. If Redis refuses
    the job, they are written here all the same: the bell matters more than the wait."""
    if not comment_notify_enqueue(comment.pk):
        comment_notify(comment_id=comment.pk)


def comment_notify(*, comment_id) -> int:
    """A comment tells the draft's owner and everyone else who commented on it, except its
    author — and except anyone who may no longer see the draft (a share revoked or expired
    since): who may is one query for all of them (sharing.selectors.users_reached). Read
    when the job runs: a comment deleted by then, or whose thread was closed with its
    sharing, tells nobody. Returns how many were told (a job run again tells nobody twice:
    notification_create writes each row once)."""
    comment = Comment.objects.select_related("creation").filter(pk=comment_id).first()
    if comment is None or comment.deleted_at or not comment.text or comment.closed_at:
        return 0
    creation = comment.creation
    # Those who wrote in this sharing's thread (not in one closed with an earlier sharing).
    commenters = set(
        open_comments(creation.pk).values_list("author_id", flat=True).order_by().distinct()
    )
    candidates = ({creation.owner_id} | commenters) - {comment.author_id}
    if not candidates:
        return 0
    active = set(
        get_user_model()
        .objects.filter(pk__in=candidates, is_active=True)
        .values_list("pk", flat=True)
    )
    allowed = users_reached(creation=creation, user_ids=active)
    if creation.owner_id in active:
        allowed.add(creation.owner_id)
    told = 0
    for user_id in sorted(allowed):
        written = notification_create(
            recipient_id=user_id, kind=Kind.COMMENT, creation=creation, comment_id=comment.pk
        )
        told += written is not None
    return told


def on_tokens_given(sender, *, entry, **kwargs) -> None:
    """Tokens someone else moved tell the creator whose they are: the welcome grant on
    confirming their address, a staff grant or adjustment — once per ledger entry."""
    amount = int(entry.amount)
    notification_create(
        recipient_id=entry.account.user_id,
        kind=Kind.TOKENS_ADDED if amount > 0 else Kind.TOKENS_REMOVED,
        creation=None,
        object_key=presenters.ledger_key(entry),
        amount=abs(amount),
    )
