"""What a notification says, built when it is read.

A notification row keeps no words of a draft or a comment. The prompt (or caption) and a
comment are quoted only while the reader may still see them: the owner their own creation
until it is purged; anyone else a draft only while a share reaches them
(sharing.selectors — the same rule as the shared page); a comment only while it is not
deleted and its draft is one the reader may see. Otherwise the notification says what
happened without the words ("alice shared a draft with you").

Cheap for a page: the creations come with the page's query (select_related), and the share
checks and the comments are one query each for the whole page, whatever its size.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.utils.text import Truncator

from creations.models import Creation
from sharing.selectors import comments_by_id, shared_with_among

from . import registry
from .models import Notification

Kind = Notification.Kind
PROMPT_QUOTE = 60
COMMENT_QUOTE = 80


@dataclass(frozen=True)
class ShownNotification:
    """A notification and its words for this reader."""

    notification: Notification
    text: str


def quoted(text: str, length: int = PROMPT_QUOTE) -> str:
    return "“" + Truncator(" ".join((text or "").split())).chars(length) + "”"


def _with(words: str, quote: str | None) -> str:
    return f"{words}: {quote}" if quote else words


def finished_text(creation: Creation, *, quote: bool = True) -> str:
    kind = creation.get_kind_display().lower()
    return _with(f"Your {kind} is ready", quoted(creation.prompt) if quote else None)


def failed_text(creation: Creation, refunded: int | None, *, quote: bool = True) -> str:
    kind = creation.get_kind_display().lower()
    refund = f", {refunded} token{'s' if refunded != 1 else ''} refunded" if refunded else ""
    return _with(f"Your {kind} failed{refund}", quoted(creation.prompt) if quote else None)


def published_text(creation: Creation, *, quote: bool = True) -> str:
    words = creation.caption or creation.prompt
    return _with("Your scheduled post is published", quoted(words) if quote else None)


def shared_text(creation: Creation, by: str, *, quote: bool = True) -> str:
    if not quote:
        return f"{by} shared a draft with you"
    kind = creation.get_kind_display().lower()
    return f"{by} shared a draft {kind} with you: {quoted(creation.prompt)}"


def comment_text(author: str, text: str | None, *, own_draft: bool) -> str:
    where = "your draft" if own_draft else "a draft shared with you"
    return _with(f"{author} commented on {where}", quoted(text, COMMENT_QUOTE) if text else None)


def post_comment_text(author: str, text: str | None) -> str:
    return _with(f"{author} commented on your post", quoted(text, COMMENT_QUOTE) if text else None)


# Comments kept by apps above this one (community's comments on posts), by notification
# kind: each source reads {comment id: comment} for a page in one query. The comment has
# `author`, `text` and `is_deleted`; the app registers its reader in its ready().
_comment_sources: dict[str, Callable[[list], dict]] = {}


def register_comment_source(kind: str, read: Callable[[list], dict]) -> None:
    _comment_sources[kind] = read


def _owner_may_see(creation: Creation) -> bool:
    return creation.purged_at is None


def present(
    notifications: Sequence[Notification], *, reader: AbstractBaseUser
) -> list[ShownNotification]:
    """The reader's notifications with their words (see the module's rule). The
    notifications should come with `creation__owner` loaded (the selectors do)."""
    others = [
        n.creation
        for n in notifications
        if n.creation is not None and n.creation.owner_id != reader.pk
    ]
    shared = shared_with_among(user=reader, creations=others) if others else set()
    comments = comments_by_id(n.comment_id for n in notifications if n.kind == Kind.COMMENT)
    for kind, read in _comment_sources.items():
        ids = [n.comment_id for n in notifications if n.kind == kind]
        if ids:
            comments.update(read(ids))
    told = _registered_texts(notifications)
    return [
        ShownNotification(
            n, told.get(n.pk) or _text(n, reader=reader, shared=shared, comments=comments)
        )
        for n in notifications
    ]


def _registered_texts(notifications: Sequence[Notification]) -> dict:
    """The words of the kinds another app says (notifications.registry), one call per kind."""
    by_kind: dict[str, list[Notification]] = {}
    for notification in notifications:
        if registry.registered(notification.kind) is not None:
            by_kind.setdefault(notification.kind, []).append(notification)
    texts: dict = {}
    for kind, rows in by_kind.items():
        texts.update(registry.registered(kind).texts(rows))
    return texts


def present_one(notification: Notification, *, reader: AbstractBaseUser) -> str:
    return present([notification], reader=reader)[0].text


EXPORT_READY_TEXT = "Your data is ready to download"
WELCOME_PREFIX = "welcome:"
LEDGER_PREFIX = "ledger:"


def ledger_key(entry) -> str:
    """A token notification's object_key: its ledger entry, marked as the welcome grant or
    not (what it says, and whether it may be e-mailed, depend on which)."""
    welcome = entry.kind == "grant" and entry.reason == "welcome"
    return f"{WELCOME_PREFIX if welcome else LEDGER_PREFIX}{entry.pk}"


def is_welcome(notification: Notification) -> bool:
    return notification.object_key.startswith(WELCOME_PREFIX)


def tokens_text(notification: Notification) -> str:
    amount = notification.amount or 0
    tokens = f"{amount} token{'s' if amount != 1 else ''}"
    if is_welcome(notification):
        return f"Your {amount} welcome tokens have arrived: your address is confirmed"
    if notification.kind == Kind.TOKENS_ADDED:
        return f"Phoenix staff added {tokens} to your balance"
    return f"Phoenix staff took {tokens} from your balance (a correction)"


WEBHOOK_DISABLED_TEXT = (
    "A webhook endpoint of yours was turned off: its deliveries kept failing, or it "
    "answered 410 Gone. Open your webhook settings to see why and turn it back on."
)


def _text(notification: Notification, *, reader, shared: set, comments: dict) -> str:
    if notification.kind == Kind.EXPORT_READY:
        return EXPORT_READY_TEXT
    if notification.kind == Kind.WEBHOOK_DISABLED:
        return WEBHOOK_DISABLED_TEXT
    if registry.registered(notification.kind) is not None:
        return notification.get_kind_display()  # its app's words were not found
    if notification.kind in (Kind.TOKENS_ADDED, Kind.TOKENS_REMOVED):
        return tokens_text(notification)
    creation = notification.creation
    own = creation.owner_id == reader.pk
    # May the reader see the creation's words now?
    visible = _owner_may_see(creation) if own else creation.pk in shared
    kind = notification.kind
    if kind == Kind.CREATION_FINISHED:
        return finished_text(creation, quote=own and visible)
    if kind == Kind.CREATION_FAILED:
        return failed_text(creation, notification.amount, quote=own and visible)
    if kind == Kind.POST_PUBLISHED:
        return published_text(creation, quote=own and visible)
    if kind == Kind.DRAFT_SHARED:
        return shared_text(creation, creation.owner.get_username(), quote=visible and not own)
    comment = comments.get(notification.comment_id)
    if kind == Kind.POST_COMMENT:
        author = comment.author.get_username() if comment is not None else "Someone"
        words = comment.text if comment is not None and not comment.is_deleted else None
        return post_comment_text(author, words if own and visible else None)
    author = comment.author.get_username() if comment is not None else "Someone"
    words = comment.text if comment is not None and not comment.is_deleted and visible else None
    return comment_text(author, words, own_draft=own)
