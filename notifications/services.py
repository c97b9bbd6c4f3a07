"""Writing notifications: once per event and person, only for the person it concerns, and
read marks.

Once per event: every notification names the event's object (`object_key`: the creation's
id, or the comment's), and (recipient, kind, object_key) is unique in the database. The
listeners run after COMMIT in web requests and in work horses alike, so a job retried or
recovered, or a signal sent twice, meets the row the first one wrote and writes nothing —
nor sends a second e-mail, which goes only with the row that was written.

Who is told: a creation's events tell its owner only; a share tells its recipient; a
comment tells the draft's owner and everyone who commented on it and may still see it,
never its author.

Seen on the card: see `creation_seen`.
"""

import logging
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from creations.models import Creation

from .models import Notification, NotificationPreferences

log = logging.getLogger(__name__)

Kind = Notification.Kind
TEXT_MAX = Notification._meta.get_field("text").max_length


# ---------------------------------------------------------------------------------------
# What the notifications say.


def _quoted(text: str, length: int = 60) -> str:
    return "“" + Truncator(" ".join((text or "").split())).chars(length) + "”"


def finished_text(creation: Creation) -> str:
    return f"Your {creation.get_kind_display().lower()} is ready: {_quoted(creation.prompt)}"


def failed_text(creation: Creation, refunded: int | None) -> str:
    kind = creation.get_kind_display().lower()
    refund = f", {refunded} token{'s' if refunded != 1 else ''} refunded" if refunded else ""
    return f"Your {kind} failed{refund}: {_quoted(creation.prompt)}"


def published_text(creation: Creation) -> str:
    words = creation.caption or creation.prompt
    return f"Your scheduled post is published: {_quoted(words)}"


def shared_text(creation: Creation, by: str) -> str:
    kind = creation.get_kind_display().lower()
    return f"{by} shared a draft {kind} with you: {_quoted(creation.prompt)}"


def comment_text(author: str, text: str, *, own_draft: bool) -> str:
    where = "your draft" if own_draft else "a draft shared with you"
    return f"{author} commented on {where}: {_quoted(text, 80)}"


# ---------------------------------------------------------------------------------------
# Writing them.


def notification_create(
    *,
    recipient_id: int,
    kind: str,
    creation: Creation,
    text: str,
    comment_id=None,
) -> Notification | None:
    """The notification of one event for one person, written once. Returns the row when
    this call wrote it; None when it was already there (a retried job, a signal sent twice,
    or the card poll that showed the creator the result first)."""
    notification, created = Notification.objects.get_or_create(
        recipient_id=recipient_id,
        kind=kind,
        object_key=str(comment_id or creation.pk),
        defaults={"creation": creation, "comment_id": comment_id, "text": text[:TEXT_MAX]},
    )
    if not created:
        return None
    _email_if_wanted(notification, creation)
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
    (id, recipient_id, kind, creation_id, object_key, text, created_at, read_at)
  VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
  ON CONFLICT (recipient_id, kind, object_key)
    DO UPDATE SET read_at = COALESCE({Notification._meta.db_table}.read_at, EXCLUDED.read_at)
)
SELECT count(*) FROM {Notification._meta.db_table}
WHERE recipient_id = %s AND read_at IS NULL AND NOT (kind = %s AND object_key = %s)
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def creation_seen(*, owner: AbstractBaseUser, creation: Creation, shown: str) -> int | None:
    """The owner's card poll has just shown them that `creation` finished, failed, or (a
    scheduled card) was published: they saw the news, so its notification is read.

    The rule: a notification is written when the event happens, wherever the creator is;
    it is marked read when the owner's own card poll renders that final state (the drafts
    tab was open on it), so the bell counts it only if they were elsewhere. Written as one
    upsert, so the order of the two does not matter: when the poll comes first (the job's
    COMMIT is seen before its listeners have run), the row is written here already read,
    and the event's own insert then finds it and writes nothing — and sends no e-mail.

    Returns the unread count after it, for the bell the poll refreshes (None when the card
    showed no such news). One statement: the statement's snapshot does not see its own
    upsert, so the count leaves that row out."""
    kind = SEEN_ON_CARD.get((shown, creation.status))
    if kind is None or creation.owner_id != owner.pk:
        return None
    if kind == Kind.CREATION_FINISHED:
        text = finished_text(creation)
    elif kind == Kind.CREATION_FAILED:
        text = failed_text(creation, creation.cost if getattr(creation, "refunded", 0) else None)
    else:
        text = published_text(creation)
    now = timezone.now()
    key = str(creation.pk)
    params = [uuid.uuid4(), owner.pk, kind, creation.pk, key, text[:TEXT_MAX], now, now]
    with connection.cursor() as cursor:
        cursor.execute(_SEEN_SQL, [*params, owner.pk, kind, key])
        return cursor.fetchone()[0]


def notifications_mark_read(*, user: AbstractBaseUser, ids: Iterable | None = None) -> int:
    """Mark the user's unread notifications read: those of `ids` (others' ids and unknown
    ones match nothing), or all of them. Returns how many changed."""
    unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def notification_open(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )


def email_address_of(user: AbstractBaseUser) -> str:
    """Where notification e-mails may go: the account's address once confirmed (never an
    address someone typed for another person's inbox), else ""."""
    from profiles.selectors import email_unconfirmed

    if not user.email or email_unconfirmed(user):
        return ""
    return user.email


def preferences_update(
    *, user: AbstractBaseUser, email_video_finished: bool, email_draft_shared: bool
) -> NotificationPreferences:
    """Save the e-mail choices: one row per user, written the first time they save."""
    preferences, _ = NotificationPreferences.objects.update_or_create(
        user=user,
        defaults={
            "email_video_finished": email_video_finished,
            "email_draft_shared": email_draft_shared,
        },
    )
    return preferences


# ---------------------------------------------------------------------------------------
# E-mail, for the two kinds a creator may ask for (off by default).

EMAIL_SUBJECTS = {
    Kind.CREATION_FINISHED: "Your video is ready",
    Kind.DRAFT_SHARED: "A draft was shared with you",
}


def _wants_email(notification: Notification, creation: Creation) -> str:
    """The address to write to, or "" when this notification is not to be e-mailed."""
    if notification.kind == Kind.CREATION_FINISHED:
        if creation.kind != Creation.Kind.VIDEO:
            return ""
        flag = "email_video_finished"
    elif notification.kind == Kind.DRAFT_SHARED:
        flag = "email_draft_shared"
    else:
        return ""
    preferences = (
        NotificationPreferences.objects.filter(user_id=notification.recipient_id, **{flag: True})
        .select_related("user")
        .first()
    )
    if preferences is None or not preferences.user.is_active:
        return ""
    return email_address_of(preferences.user)


def _email_if_wanted(notification: Notification, creation: Creation) -> None:
    address = _wants_email(notification, creation)
    if not address:
        return
    link = settings.PHOENIX_SITE_URL + reverse("notification_open", args=[notification.pk])
    body = (
        f"{notification.text}\n\nOpen it: {link}\n\n"
        "You get this e-mail because you asked for it on your notifications page; "
        "you can turn it off there."
    )
    subject = EMAIL_SUBJECTS[notification.kind]

    def send() -> None:
        try:
            send_mail(subject, body, None, [address])
        except Exception:  # noqa: BLE001 - a mail server's trouble never reaches the job
            log.exception("Could not e-mail notification %s", notification.pk)

    # The listeners already run after COMMIT; a caller inside a transaction still waits.
    transaction.on_commit(send)


# ---------------------------------------------------------------------------------------
# The listeners (connected in apps.py). They run after COMMIT; a failure is logged by the
# sender (send_robust) and never reaches the creator's request or the job.


def on_creation_event(sender, *, event: str, creation: Creation, details=None, **kwargs) -> None:
    """A creation's events tell its owner, and only for news they did not make themselves:
    it is ready, it failed (told with its refund: the "refunded" event of a failed creation,
    written in the same transaction as the failure), a scheduled post went out."""
    details = details or {}
    owner_id = creation.owner_id
    if event == "completed":
        notification_create(
            recipient_id=owner_id,
            kind=Kind.CREATION_FINISHED,
            creation=creation,
            text=finished_text(creation),
        )
    elif event == "refunded" and creation.status == Creation.Status.FAILED:
        notification_create(
            recipient_id=owner_id,
            kind=Kind.CREATION_FAILED,
            creation=creation,
            text=failed_text(creation, details.get("amount")),
        )
    elif event == "published" and details.get("scheduled"):
        notification_create(
            recipient_id=owner_id,
            kind=Kind.POST_PUBLISHED,
            creation=creation,
            text=published_text(creation),
        )


def on_draft_shared(sender, *, share, **kwargs) -> None:
    """A draft shared with a person tells that person (a link share names nobody)."""
    recipient_id = getattr(share, "recipient_id", None)
    creation = share.creation
    if recipient_id is None or recipient_id == creation.owner_id:
        return
    by = getattr(share, "created_by", None) or creation.owner
    notification_create(
        recipient_id=recipient_id,
        kind=Kind.DRAFT_SHARED,
        creation=creation,
        text=shared_text(creation, by.get_username()),
    )


def on_comment_posted(sender, *, comment, **kwargs) -> None:
    """A comment tells the draft's owner and everyone else who commented on it, except its
    author — and except anyone who may no longer see the draft (a share revoked or expired
    since), who would otherwise read the new comment in the notification."""
    if getattr(comment, "deleted_at", None) or not comment.text:
        return
    creation = comment.creation
    commenters = set(
        type(comment)
        .objects.filter(creation_id=creation.pk)
        .values_list("author_id", flat=True)
        .distinct()
    )
    recipients = ({creation.owner_id} | commenters) - {comment.author_id}
    if not recipients:
        return
    users = get_user_model().objects.filter(pk__in=recipients, is_active=True)
    author = comment.author.get_username()
    for user in users:
        own = user.pk == creation.owner_id
        if not own and not _may_see(creation, user):
            continue
        notification_create(
            recipient_id=user.pk,
            kind=Kind.COMMENT,
            creation=creation,
            comment_id=comment.pk,
            text=comment_text(author, comment.text, own_draft=own),
        )


def _may_see(creation: Creation, user: AbstractBaseUser) -> bool:
    from sharing.selectors import is_shared_with

    return is_shared_with(creation=creation, user=user)
