"""Alerts that reach someone: incidents opened and resolved by the checks' runs, what each
told whom (per channel), and staff's silences."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class AlertRunner(models.Model):
    """One row: the lock that check runs take in turn, and what the last run applied.

    A doubled cron (or `phoenix_alerts --notify` beside it) runs the checks twice at once:
    the second waits for the first's COMMIT, then sees its incidents and notifications.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The time of the last snapshot applied: an older one (a run that collected before
    # another committed) is not applied over it, so incidents never go back in time.
    snapshot_at = models.DateTimeField(null=True)
    window = models.CharField(max_length=8, blank=True)
    ran_at = models.DateTimeField(null=True)
    firing = models.JSONField(default=list)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="alert_runner_singleton")]

    def __str__(self) -> str:
        return f"alert checks, last run {self.ran_at}"


class Incident(models.Model):
    """A check that fired: open from its first firing run to the first run it did not."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    check_name = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    detail = models.TextField()
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When the opening (and the resolve) was handed to the channels: set once, by the run
    # that created its notifications. A silenced check's stays empty until the silence ends.
    open_notified_at = models.DateTimeField(null=True, blank=True)
    resolve_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # The database holds "one open incident per check", whatever two runs do.
            models.UniqueConstraint(
                fields=["check_name"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_incident_per_check",
            ),
            models.CheckConstraint(
                condition=Q(resolve_notified_at__isnull=True) | Q(resolved_at__isnull=False),
                name="incident_resolve_notified_only_when_resolved",
            ),
        ]
        indexes = [models.Index(fields=["-opened_at"], name="incident_opened_idx")]

    def __str__(self) -> str:
        return f"{self.check_name} since {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertDelivery(models.Model):
    """One event of an incident (opened, resolved) for one channel. Delivered once: a
    failed send stays pending and is tried again by the next run."""

    class Event(models.TextChoices):
        OPENED = "opened", "Opened"
        RESOLVED = "resolved", "Resolved"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=16, choices=Event.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # A run that sends it claims it until then: another run at the same moment skips it,
    # and a run that died while sending leaves it to be tried again after this.
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "event", "channel"], name="one_notification_per_event_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(delivered_at__isnull=True),
                name="notification_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident.check_name} {self.event} by {self.channel}"

    @property
    def state(self) -> str:
        if self.delivered_at:
            return "delivered"
        return "failing" if self.attempts else "pending"


class Silence(models.Model):
    """Staff's "we know": the check's incidents are still recorded, nobody is told until
    the silence ends (by its time or early)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    check_name = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("silence_alert", "Can silence an alert and end a silence")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("created_at")), name="silence_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.check_name} until {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def until(self):
        """When it stops (stopped) holding notifications back."""
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at


# --- Rollups: the figures' running sums, kept by ops.rollup (cron) --------------------------
# The figures read a rollup plus the few rows added since it ran, never the whole ledger or
# creations table. The rules that make "rollup + tail" exact are in ops/rollup.py.


class RollupState(models.Model):
    """One row: how far the rollups have got."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # Every ledger row with id <= this is counted in the ledger rollups, and no other.
    ledger_watermark = models.BigIntegerField(default=0)
    # Ledger ids up to this were handed out when `ledger_pending_writers` were the
    # transactions writing to the ledger: once all of them have ended, no row with an id up
    # to this can still appear, and the rollup may move its watermark there.
    ledger_pending_high = models.BigIntegerField(default=0)
    ledger_pending_writers = models.JSONField(default=list)
    # Every creation started before this is counted in the creation rollups, and is over
    # (not in flight): its figures there can no longer change. None: nothing rolled up.
    creations_horizon = models.DateTimeField(null=True)
    ran_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="rollup_state_singleton")]

    def __str__(self) -> str:
        return f"rollups up to ledger row {self.ledger_watermark}"


class LedgerKindTotal(models.Model):
    """Ledger rows up to the watermark, per kind: count, tokens in, tokens out."""

    kind = models.CharField(max_length=16, primary_key=True)
    entries = models.BigIntegerField(default=0)
    plus = models.BigIntegerField(default=0)
    minus = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.entries} rows"


class LedgerAccountTotal(models.Model):
    """Ledger rows up to the watermark, per account: the sum a balance must equal."""

    account_id = models.BigIntegerField(primary_key=True)
    ledger_sum = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.ledger_sum}"


class LedgerSpendDay(models.Model):
    """Debits and refunds up to the watermark, per day (settings.TIME_ZONE) and account."""

    day = models.DateField()
    account_id = models.BigIntegerField()
    # Debits minus refunds, in tokens (positive: spent).
    spent = models.BigIntegerField(default=0)
    debits = models.BigIntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "account_id"], name="one_spend_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} account {self.account_id}: {self.spent}"


class CreationDay(models.Model):
    """Creations started on a day (settings.TIME_ZONE) before the horizon, per type."""

    day = models.DateField()
    kind = models.CharField(max_length=8)
    created = models.BigIntegerField(default=0)
    # Reached draft; ended = reached draft or failed (the analytics' success rate).
    succeeded = models.BigIntegerField(default=0)
    ended = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "kind"], name="one_creation_row_per_day_kind")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.created}"


class FailureReasonDay(models.Model):
    """Failed creations started on a day before the horizon, per error code."""

    day = models.DateField()
    error_code = models.CharField(max_length=64)
    failures = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "error_code"], name="one_reason_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.error_code}: {self.failures}"


class UnrefundedCreation(models.Model):
    """A creation started before the horizon that ended without media and had no refund
    when the rollup looked (a bug the alert is for: normally this table is empty)."""

    creation_id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return str(self.creation_id)
