"""What a creator is told about: their creation finished or failed, their scheduled post
went out, a draft was shared with them, someone commented on a draft they take part in.

One row per event and person: the unique (recipient, kind, object_key) lets a retried
job, a recovered one or a signal sent twice write nothing the second time.

A row holds no words of the draft (no prompt, caption or comment): what a notification says
is built when it is read (notifications.presenters), quoting only what the reader may still
see, so a share that ends, a purge or a deleted comment takes the words away with it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from creations.models import Creation


class Notification(models.Model):
    class Kind(models.TextChoices):
        CREATION_FINISHED = "creation_finished", "Creation ready"
        CREATION_FAILED = "creation_failed", "Creation failed"
        POST_PUBLISHED = "post_published", "Scheduled post published"
        DRAFT_SHARED = "draft_shared", "Draft shared with you"
        COMMENT = "comment", "Comment"
        # A comment on a published post (community's PostComment id in comment_id).
        POST_COMMENT = "post_comment", "Comment on your post"
        # About the account, not a creation: the "Download my data" zip is ready.
        EXPORT_READY = "export_ready", "Your data is ready"
        # A webhook endpoint was turned off (410 Gone, or failing for days).
        WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint turned off"
        # Said and linked by the moderation app (notifications.registry): a decision on the
        # recipient's post or comment, the outcome of their report, their appeal decided.
        MODERATION_DECISION = "moderation_decision", "Moderation decision"
        REPORT_OUTCOME = "report_outcome", "Your report"
        APPEAL_DECIDED = "appeal_decided", "Your appeal"
        # Tokens someone else moved: the welcome grant on confirming, a staff grant or
        # adjustment (object_key: the ledger entry; amount: how many, sign in the kind).
        TOKENS_ADDED = "tokens_added", "Tokens added"
        TOKENS_REMOVED = "tokens_removed", "Tokens removed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # What it is about: the creation always; for a comment, the comment too (sharing's
    # Comment id, kept as a value so that notifications do not depend on sharing's tables).
    creation = models.ForeignKey(
        Creation,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    comment_id = models.UUIDField(null=True, blank=True)
    # What makes it one event (services.event_key): the comment's id, the share's, the
    # creation's and its publication time for a published post, else the creation's id.
    object_key = models.CharField(max_length=64)
    # No longer written (the words are built when read); kept empty so that code of the
    # previous release, still running during a deploy, can insert. Migration 0002 blanked it.
    text = models.CharField(max_length=300, blank=True, default="")
    # A failed creation's refund, in tokens (not content: what the notification says of it).
    amount = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When its e-mail went (or is going) out: the mail job sends once (services).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The notifications page and the API, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_list"),
            # The bell's count: an index of the unread ones alone.
            models.Index(
                fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "object_key"], name="one_notification_per_event"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["comment", "post_comment"], comment_id__isnull=False)
                | (~Q(kind__in=["comment", "post_comment"]) & Q(comment_id__isnull=True)),
                name="comment_notification_names_its_comment",
            ),
            # Only news about the account itself has no creation.
            models.CheckConstraint(
                condition=Q(creation__isnull=False)
                | Q(
                    kind__in=["export_ready", "tokens_added", "tokens_removed", "webhook_disabled"]
                ),
                name="notification_names_its_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} ({self.object_key})"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class NotificationPreferences(models.Model):
    """What a creator wants by e-mail as well; no row means the defaults (all off)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preferences",
    )
    email_video_finished = models.BooleanField(default=False)
    email_draft_shared = models.BooleanField(default=False)
    # With a database default: code of the previous release, still running during the
    # deploy, inserts rows without this column.
    email_tokens = models.BooleanField(default=False, db_default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"
