"""The account itself: two-factor sign-in, data exports, and the tombstone a deleted
account leaves (the ledger keeps its rows, so the user row stays, scrubbed)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class TwoFactor(models.Model):
    """A creator's TOTP authenticator, once they proved it works (a code from it)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor"
    )
    secret = models.CharField(max_length=64, help_text="base32 TOTP secret")
    # The last 30-second step a code was accepted for: a code works once (no replay).
    last_step = models.BigIntegerField(default=0)
    enabled_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"two-factor of {self.user_id}"


class RecoveryCode(models.Model):
    """One single-use recovery code, kept only as a keyed hash (recovery_hash)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="one_recovery_code_hash")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class DataExport(models.Model):
    """A "Download my data" zip: built by a job, private, removed after PHOENIX_EXPORT_DAYS."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One export in the making per person at a time.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="one_pending_export"
            )
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.user_id} ({self.status})"


class DeletedAccount(models.Model):
    """What is left of an account its owner deleted: the user row stays (scrubbed, inactive,
    no password) because the ledger's rows are money records and point at its token account;
    this says when, and how many unspent tokens were forfeited."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deletion"
    )
    deleted_at = models.DateTimeField(auto_now_add=True)
    forfeited = models.BigIntegerField(default=0)
    # Set once the job has purged every creation (files deleted, words cleared).
    purged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"deleted account {self.user_id}"
