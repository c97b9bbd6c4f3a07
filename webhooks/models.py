"""Webhook endpoints of creators and the deliveries made to them.

An endpoint is a URL its owner gave (https, public: see webhooks.transport), the events it
wants, and the secret its deliveries are signed with (Standard Webhooks). The secret has
to be kept as it is, not hashed: Phoenix signs with it at every delivery. After a
rotation the previous secret signs too, until `previous_secret_expires_at`.

A delivery is one event for one endpoint: one row, whatever the tries (`attempts`),
unique per (endpoint, webhook_id) so that an event told twice is delivered once. Its
`state` moves: pending → sending (a worker claimed the try) → pending again (a retry
waits until `next_attempt_at`), succeeded, or failed (given up, or refused for good). Why
this shape survives a worker killed mid-send: webhooks.services.delivery_attempt.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The events an endpoint may ask for.
EVENT_TYPES = (
    "creation.finished",  # a creation is ready as a draft
    "creation.failed",  # it failed (and was refunded)
    "creation.published",  # published now, or a scheduled post whose time came
    "tokens.low",  # the balance fell below PHOENIX_TOKENS_LOW_THRESHOLD
)


class WebhookEndpoint(models.Model):
    class DisabledReason(models.TextChoices):
        GONE = "gone", "The endpoint answered 410 Gone"
        FAILING = "failing", "Every delivery failed for days"
        OWNER = "owner", "Turned off by its owner"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=32))
    secret = models.CharField(max_length=64)
    previous_secret = models.CharField(max_length=64, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, blank=True, default=""
    )
    # The first failed try since the last delivery that succeeded (None: all well): an
    # endpoint failing for PHOENIX_WEBHOOK_DISABLE_AFTER_DAYS is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["owner", "created_at"], name="webhook_endpoint_owner")]
        constraints = [
            models.CheckConstraint(
                condition=Q(disabled_at__isnull=True, disabled_reason="")
                | (Q(disabled_at__isnull=False) & ~Q(disabled_reason="")),
                name="webhook_disabled_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"webhook {self.url} of {self.owner_id}"

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    def signing_secrets(self, *, now=None) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        while it is still valid after a rotation."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at and self.previous_secret_expires_at > now
        ):
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # The event's id, sent as `webhook-id`: the same for every try and every endpoint of
    # the event, so a receiver can drop a copy it already handled.
    webhook_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=32)
    # The exact body sent (and signed), the same bytes at every try.
    payload = models.TextField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Tries started (a try is counted when a worker claims it, before the request goes).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While sending: the claim holds until then; past it, recovery takes the try back.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The last try's outcome.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # An endpoint's log, newest first.
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log"),
            # Recovery: the deliveries not finished yet, by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_open",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "webhook_id"], name="one_delivery_per_event_and_endpoint"
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(claimed_until__isnull=False),
                name="webhook_sending_is_claimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_id} to {self.endpoint_id} ({self.state})"

    @property
    def can_resend(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)
