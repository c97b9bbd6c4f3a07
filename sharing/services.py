"""Writes of sharing: share a draft (with a creator by name, or as a link), open a link,
revoke, end every share when the draft leaves the drafts, comment, delete a comment.

Refusals are `SharingRefused` (a code, a sentence, an HTTP status); the views turn them
into responses. The signals notifications listen to are sent after COMMIT.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from creations.models import Creation
from creations.validation import parse_future_moment
from library.models import Board
from phoenix import ratelimit

from . import selectors, signals
from .models import COMMENT_MAX, Block, Comment, LinkOpening, Share, hash_token

log = logging.getLogger(__name__)
User = get_user_model()

# The creation events after which a draft is no longer a draft that may be shared.
ENDING_EVENTS = ("trashed", "purged", "taken_down", "published", "scheduled")
LINK_EXPIRY_HORIZON = timedelta(days=365)
COMMENT_RATE_SCOPE = "comment"
COMMENT_RATE_WINDOW = 60
SHARE_RATE_SCOPE = "share"
SHARE_RATE_WINDOW = 60 * 60


def comments_per_minute() -> int:
    return settings.PHOENIX_COMMENTS_PER_MINUTE


class SharingRefused(Exception):
    def __init__(self, code: str, message: str, *, status: int = 422, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


class NotFound(SharingRefused):
    """Unknown, someone else's, no longer shared: all answer alike."""

    def __init__(self, message: str = "No such creation."):
        super().__init__("not_found", message, status=404)


def _send_after_commit(signal, **kwargs) -> None:
    def send() -> None:
        for receiver, outcome in signal.send_robust(sender=Share, **kwargs):
            if isinstance(outcome, Exception):
                log.error(
                    "A sharing listener (%r) failed",
                    receiver,
                    exc_info=(type(outcome), outcome, outcome.__traceback__),
                )

    transaction.on_commit(send)


def _lock_shareable(creation: Creation) -> Creation:
    """Lock the creation's row (so a publish or trash cannot slip between the check and the
    share) and check it is a draft that may be shared."""
    row = Creation.objects.select_for_update().get(pk=creation.pk)
    if not row.is_shareable:
        raise SharingRefused(
            "not_shareable", "Only a draft (not in the trash) can be shared.", status=409
        )
    return row


# ---------------------------------------------------------------------------------------
# Sharing.


def _take_share_allowance(owner_id) -> None:
    """Shares and links are counted per owner per hour (PHOENIX_SHARES_PER_HOUR; 0: no
    limit), so nobody can push drafts at people in bulk. Given back by a refusal."""
    limit = settings.PHOENIX_SHARES_PER_HOUR
    if not limit:
        return
    subject = str(owner_id)
    if ratelimit.take(SHARE_RATE_SCOPE, subject, window=SHARE_RATE_WINDOW) > limit:
        ratelimit.give_back(SHARE_RATE_SCOPE, subject, window=SHARE_RATE_WINDOW)
        wait = ratelimit.seconds_left(SHARE_RATE_WINDOW)
        raise SharingRefused(
            "too_many_shares",
            f"You can share {limit} times an hour. Try again in {-(-wait // 60)} minutes.",
            status=429,
            retry_after=wait,
        )


def _give_share_back(owner_id) -> None:
    if settings.PHOENIX_SHARES_PER_HOUR:
        ratelimit.give_back(SHARE_RATE_SCOPE, str(owner_id), window=SHARE_RATE_WINDOW)


def share_with_person(*, creation: Creation, owner: AbstractBaseUser, username) -> Share:
    """Share the owner's draft with an active creator, read-only."""
    _take_share_allowance(owner.pk)
    try:
        return _share_with_person(creation=creation, owner=owner, username=username)
    except SharingRefused:
        _give_share_back(owner.pk)
        raise


def _share_with_person(*, creation: Creation, owner: AbstractBaseUser, username) -> Share:
    if not isinstance(username, str) or not username.strip():
        raise SharingRefused("username_required", "Type the username of a creator.", status=400)
    username = username.strip()
    if "\x00" in username or len(username) > 150:
        raise SharingRefused("unknown_user", "There is no creator with that username.")
    recipient = User.objects.filter(username=username, is_active=True).first()
    if recipient is None:
        raise SharingRefused("unknown_user", f"There is no creator called “{username}”.")
    if recipient.pk == owner.pk:
        raise SharingRefused("own_draft", "This is your own draft: you can already see it.")
    if Block.objects.filter(blocker=recipient, blocked=owner).exists():
        raise SharingRefused(
            "not_accepted", f"{recipient.username} does not accept shares from you.", status=403
        )
    with transaction.atomic():
        _lock_shareable(creation)
        if Share.objects.filter(
            creation=creation, recipient=recipient, revoked_at__isnull=True
        ).exists():
            raise SharingRefused(
                "already_shared", f"This draft is already shared with {recipient.username}."
            )
        try:
            with transaction.atomic():
                share = Share.objects.create(
                    creation=creation, kind=Share.Kind.PERSON, recipient=recipient
                )
        except IntegrityError:  # a second request for the same person, at the same moment
            raise SharingRefused(
                "already_shared", f"This draft is already shared with {recipient.username}."
            ) from None
        _send_after_commit(signals.draft_shared, share=share)
    return share


@dataclass(frozen=True)
class NewLink:
    share: Share
    token: str  # shown once: only its hash is stored


def parse_expires_at(value, *, now: datetime | None = None) -> datetime | None:
    """A link's optional expiry: an ISO 8601 time with its offset, in the next year."""
    return parse_future_moment(
        value,
        label="Expires at",
        horizon=LINK_EXPIRY_HORIZON,
        too_far="A link can expire at most a year ahead.",
        refuse=lambda message: SharingRefused("invalid_expires_at", message, status=400),
        now=now,
    )


def share_link_create(*, creation: Creation, expires_at: datetime | None = None) -> NewLink:
    """A new link to the owner's draft: anyone signed in who opens it may see the draft
    while the link stands."""
    token = secrets.token_urlsafe(32)
    _take_share_allowance(creation.owner_id)
    with transaction.atomic():
        try:
            _lock_shareable(creation)
        except SharingRefused:
            _give_share_back(creation.owner_id)
            raise
        share = Share.objects.create(
            creation=creation,
            kind=Share.Kind.LINK,
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
    return NewLink(share=share, token=token)


def board_link_create(*, board: Board, expires_at: datetime | None = None) -> NewLink:
    """A new link to the owner's board (sharing.boards says what it shows)."""
    token = secrets.token_urlsafe(32)
    share = Share.objects.create(
        board=board, kind=Share.Kind.LINK, token_hash=hash_token(token), expires_at=expires_at
    )
    return NewLink(share=share, token=token)


def share_link_open(*, token: str, user: AbstractBaseUser) -> Creation | Board:
    """Someone signed in opened a link: remember it (their access lasts as long as the
    link) and return the draft (or the board) it is to. NotFound for a link that is
    unknown, revoked, expired, or whose draft is no longer shared."""
    if not isinstance(token, str) or not token or len(token) > 100 or "\x00" in token:
        raise NotFound("No such link.")
    # Looked up by its hash: comparing hashes leaks nothing about the token itself.
    share = (
        selectors.active_shares()
        .filter(kind=Share.Kind.LINK, token_hash=hash_token(token))
        .select_related("creation__owner", "board__owner")
        .first()
    )
    if share is None:
        raise NotFound("No such link.")
    if share.board_id is not None:
        if not share.board.owner.is_active:
            raise NotFound("No such link.")
        if Block.objects.filter(blocker=user, blocked_id=share.board.owner_id).exists():
            raise NotFound("No such link.")
        if share.board.owner_id != user.pk:
            LinkOpening.objects.get_or_create(share=share, user=user)
        return share.board
    creation = share.creation
    if not creation.is_shareable or not creation.owner.is_active:
        raise NotFound("No such link.")
    if Block.objects.filter(blocker=user, blocked_id=creation.owner_id).exists():
        raise NotFound("No such link.")  # they asked for nothing from this creator
    if creation.owner_id != user.pk:
        LinkOpening.objects.get_or_create(share=share, user=user)
    return creation


def share_revoke(*, share: Share, reason: str = "owner") -> bool:
    """End one share now. False if it had already ended (nothing changed). The last share
    standing takes the thread with it (threads_close)."""
    now = timezone.now()
    with transaction.atomic():
        changed = Share.objects.filter(pk=share.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason
        )
        remaining = selectors.active_shares().filter(creation_id=share.creation_id)
        if changed and share.creation_id is not None and not remaining.exists():
            threads_close(creation_id=share.creation_id, now=now)
    share.refresh_from_db(fields=["revoked_at", "revoked_reason"])
    return bool(changed)


def share_decline(*, creation_id, user: AbstractBaseUser) -> int:
    """The person a draft reaches no longer wants it: the share naming them ends, and the
    links they opened stop reaching them (opening such a link again brings it back). How
    many ended; NotFound when none reached them."""
    with transaction.atomic():
        declined = 0
        for share in Share.objects.select_for_update().filter(
            creation_id=creation_id, recipient=user, revoked_at__isnull=True
        ):
            declined += share_revoke(share=share, reason="declined")
        declined += LinkOpening.objects.filter(share__creation_id=creation_id, user=user).delete()[
            0
        ]
    if not declined:
        raise NotFound()
    return declined


def person_block(*, blocker: AbstractBaseUser, username) -> Block:
    """`blocker` accepts nothing more from that creator: their shares to `blocker` end now
    and new ones are refused. Blocking twice is blocking once."""
    blocked = User.objects.filter(username=username).first() if isinstance(username, str) else None
    if blocked is None:
        raise SharingRefused("unknown_user", "There is no creator with that username.", status=404)
    if blocked.pk == blocker.pk:
        raise SharingRefused("own_account", "You cannot block yourself.", status=400)
    with transaction.atomic():
        block, _ = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
        for share in Share.objects.select_for_update().filter(
            creation__owner=blocked, recipient=blocker, revoked_at__isnull=True
        ):
            share_revoke(share=share, reason="blocked")
        LinkOpening.objects.filter(share__creation__owner=blocked, user=blocker).delete()
        LinkOpening.objects.filter(share__board__owner=blocked, user=blocker).delete()
    return block


def person_unblock(*, blocker: AbstractBaseUser, username) -> bool:
    """Shares are accepted again (the ended ones stay ended). False if there was no block."""
    deleted, _ = Block.objects.filter(blocker=blocker, blocked__username=username).delete()
    return bool(deleted)


def on_left_the_drafts(sender, *, creation: Creation, reason: str, **kwargs) -> None:
    shares_end(creation=creation, reason=reason)


def shares_end(*, creation: Creation, reason: str) -> int:
    """End every share of the creation (it left the drafts), and close its thread. How many
    ended. Called by the creations services inside the transaction of the change itself;
    idempotent (a share already ended keeps its time and reason)."""
    now = timezone.now()
    threads_close(creation_id=creation.pk, now=now)
    return Share.objects.filter(creation_id=creation.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )


def threads_close(*, creation_id, now) -> int:
    """Close the comments of the sharing that ended: the people of a later sharing never
    see them (nor are told of new comments as past commenters)."""
    return Comment.objects.filter(creation_id=creation_id, closed_at__isnull=True).update(
        closed_at=now
    )


def on_creation_event(sender, *, event: str, creation: Creation, **kwargs) -> None:
    """creation_event's listener (connected in apps.py), a backstop only: the services
    already ended the shares in the change's own transaction, so this normally finds none
    left. A later restore or unpublish does not bring any share back."""
    if event in ENDING_EVENTS:
        shares_end(creation=creation, reason=event)


# ---------------------------------------------------------------------------------------
# Comments.


def clean_comment(text) -> str:
    """1 to COMMENT_MAX characters counted as the browser's textarea does: a line break is
    one character (a form sends CRLF, counted once) and so is each UTF-16 code unit."""
    if not isinstance(text, str):
        raise SharingRefused("invalid_text", "The comment must be text.", status=400)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        raise SharingRefused("invalid_text", "The comment contains a null character.")
    if not text:
        raise SharingRefused("text_required", "Write something first.")
    length = len(text.encode("utf-16-le")) // 2
    if length > COMMENT_MAX:
        raise SharingRefused(
            "text_too_long",
            f"The comment is {length} characters; the limit is {COMMENT_MAX}.",
        )
    return text


def _take_comment_allowance(user: AbstractBaseUser) -> None:
    limit = comments_per_minute()
    subject = str(user.pk)
    if ratelimit.take(COMMENT_RATE_SCOPE, subject, window=COMMENT_RATE_WINDOW) > limit:
        ratelimit.give_back(COMMENT_RATE_SCOPE, subject, window=COMMENT_RATE_WINDOW)
        wait = ratelimit.seconds_left(COMMENT_RATE_WINDOW)
        raise SharingRefused(
            "too_many_comments",
            f"You can post {limit} comments a minute. Try again in {wait} seconds.",
            status=429,
            retry_after=wait,
        )


def comment_post(*, creation: Creation, author: AbstractBaseUser, text) -> Comment:
    """A comment on a draft its author may see (the caller checked). Counted against the
    author's per-minute allowance before the work; an invalid comment is given back."""
    _take_comment_allowance(author)
    try:
        text = clean_comment(text)
    except SharingRefused:
        ratelimit.give_back(COMMENT_RATE_SCOPE, str(author.pk), window=COMMENT_RATE_WINDOW)
        raise
    with transaction.atomic():
        # The caller's check came before this transaction: asked again under the draft's
        # lock, which the trash, publish and take-down that end its shares also take.
        row = (
            Creation.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk=creation.pk)
            .first()
        )
        if row is None or not selectors.can_view(creation=row, user=author):
            ratelimit.give_back(COMMENT_RATE_SCOPE, str(author.pk), window=COMMENT_RATE_WINDOW)
            raise NotFound()
        comment = Comment.objects.create(creation=creation, author=author, text=text)
        _send_after_commit(signals.comment_posted, comment=comment)
    return comment


def comment_delete(*, comment: Comment, user: AbstractBaseUser) -> Comment:
    """Its author deletes their own, the draft's owner any: it stays in the thread as
    "comment deleted", its words gone. Anyone else: NotFound."""
    if comment.author_id != user.pk and comment.creation.owner_id != user.pk:
        raise NotFound("No such comment.")
    Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=user, text=""
    )
    comment.refresh_from_db()
    return comment


def comment_remove_by_staff(*, comment: Comment, staff: AbstractBaseUser) -> bool:
    """Staff remove any comment (moderation): it stays in its thread as "comment deleted",
    its words gone, as when its author deletes it. False if it was gone already."""
    removed = Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), deleted_by=staff, text=""
    )
    comment.refresh_from_db()
    return bool(removed)


def shares_take_down(*, creation: Creation) -> int:
    """Staff take a shared draft down: every share ends at once (the people it reached no
    longer see it) and its thread closes. The owner keeps the draft. How many ended."""
    with transaction.atomic():
        return shares_end(creation=creation, reason="staff")


def find_comment(*, creation: Creation, comment_id) -> Comment:
    pk = selectors._uuid(comment_id)
    comment = (
        Comment.objects.select_related("creation").filter(pk=pk, creation=creation).first()
        if pk
        else None
    )
    if comment is None:
        raise NotFound("No such comment.")
    return comment


def find_share(*, creation: Creation, share_id) -> Share:
    pk = selectors._uuid(share_id)
    share = Share.objects.filter(pk=pk, creation=creation).first() if pk else None
    if share is None:
        raise NotFound("No such share.")
    return share
