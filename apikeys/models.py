"""Personal API keys: a creator's scripts act as the creator, within the key's scopes.
Only a hash of a key is stored; the key itself is shown once, when it is made."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        CREATE = "create", "Create (generate, run again, cancel)"
        READ = "read", "Read (creations, balance)"
        PUBLISH = "publish", "Publish (publish, schedule, unpublish)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    # "phx_" and the secret's first characters: enough to tell keys apart in a list.
    prefix = models.CharField(max_length=16)
    # SHA-256 of the whole key. A key is 178 random bits, so a plain hash is enough: no one
    # can search that space, and the lookup on every request stays one indexed read.
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=16, choices=Scope.choices))
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apikey_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(scopes__contained_by=["create", "read", "publish"]) & ~Q(scopes=[]),
                name="apikey_scopes_known",
            ),
            models.CheckConstraint(
                condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="apikey_hash_is_sha256"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired
