"""A draft shared read-only with named creators or through a link, and the comments its
owner and the people it reaches write on it.

A share is never deleted and never revived: revoking it (the owner, or the draft leaving
the drafts — trashed, purged, published, scheduled, taken down — in the same transaction as
that change, see creations.services.state._end_shares) stamps `revoked_at`, and
every access check asks for a share not revoked, not expired, on a draft still a draft.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from creations.models import Creation
from library.models import Board


def hash_token(token: str) -> str:
    """Links are stored as the SHA-256 of their token: the table alone opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


ENDED_BECAUSE = {
    "owner": "revoked",
    "trashed": "ended: the draft was moved to the trash",
    "purged": "ended: the draft was deleted",
    "published": "ended: the draft was published",
    "scheduled": "ended: the draft was scheduled",
    "taken_down": "ended: the draft was taken down",
    "staff": "ended by Phoenix staff",
    "declined": "declined by the person it was shared with",
    "blocked": "ended: the person it was shared with blocked the owner",
    # On the way back to the drafts, a share the change itself should have ended (a second
    # guard: the leaving change ends them in its own transaction).
    "restored": "ended: the draft was in the trash",
    "unpublished": "ended: the draft was published",
    "unscheduled": "ended: the draft was scheduled",
}


class Share(models.Model):
    """A draft shared (with a person, or as a link), or a board shared as a link: a board's
    link shows its drafts and posts read-only to whoever opens it (library's boards)."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        LINK = "link", "Link"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creation = models.ForeignKey(
        Creation, on_delete=models.CASCADE, related_name="shares", null=True, blank=True
    )
    # Deleting a board deletes its links (and who opened them) with it.
    board = models.ForeignKey(
        Board, on_delete=models.CASCADE, related_name="shares", null=True, blank=True
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shares_received",
    )
    token_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Who or what ended it: "owner", or the creation event ("trashed", "published", …).
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="share_recipient_active",
                condition=Q(revoked_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="person") & Q(recipient__isnull=False) & Q(token_hash=""))
                | (Q(kind="link") & Q(recipient__isnull=True) & ~Q(token_hash="")),
                name="share_names_a_person_or_is_a_link",
            ),
            # Sharing twice with the same person while the first share stands is refused.
            models.UniqueConstraint(
                fields=["creation", "recipient"],
                condition=Q(revoked_at__isnull=True, kind="person"),
                name="one_active_share_per_recipient",
            ),
            models.UniqueConstraint(
                fields=["token_hash"], condition=Q(kind="link"), name="share_token_unique"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                name="revoked_share_has_reason",
            ),
            # A draft (by name or link), or a board (by link only).
            models.CheckConstraint(
                condition=(Q(creation__isnull=False) & Q(board__isnull=True))
                | (Q(creation__isnull=True) & Q(board__isnull=False) & Q(kind="link")),
                name="share_of_a_draft_or_a_board",
            ),
        ]

    def __str__(self) -> str:
        who = self.recipient if self.kind == self.Kind.PERSON else "link"
        return f"{self.creation_id or self.board_id} shared with {who}"

    @property
    def ended_because(self) -> str:
        """Why it ended, in words (for the owner's list)."""
        if self.revoked_at is None:
            return "expired" if self.is_expired else ""
        return ENDED_BECAUSE.get(self.revoked_reason, "ended")

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class LinkOpening(models.Model):
    """Who opened which link: their access lasts while the link does."""

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="openings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="links_opened"
    )
    opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["share", "user"], name="one_opening_per_link_and_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opened {self.share_id}"


COMMENT_MAX = 1000


class Comment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    text = models.TextField(max_length=COMMENT_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Deleted comments stay in the thread as "comment deleted", their words cleared.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # Set when the sharing it was written in ended (the draft left the drafts, or its last
    # share was revoked): a closed comment is never shown again, so sharing the draft anew
    # starts an empty thread for the new people.
    closed_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["creation", "created_at"], name="comment_thread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=False) | ~Q(text=""),
                name="comment_has_text_unless_deleted",
            ),
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True) | Q(text=""),
                name="deleted_comment_has_no_text",
            ),
        ]

    def __str__(self) -> str:
        return f"comment {self.id} on {self.creation_id}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Block(models.Model):
    """`blocker` accepts no shares from `blocked`: sharing with them is refused, and what
    `blocked` had shared with them ended when the block was made."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once"),
            models.CheckConstraint(
                condition=~Q(blocker=models.F("blocked")), name="block_not_oneself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker} blocks {self.blocked}"
