"""Making, checking and revoking API keys.

A key reads `phx_` + 30 random base62 characters + a 6-character base62 CRC32 of them,
as GitHub's tokens do: a scanner recognises a leaked key by its prefix and checksum
without asking us, and a mistyped key is refused without a database read."""

import hashlib
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from creations.validation import parse_future_moment

from .models import ApiKey

PREFIX = "phx_"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SECRET_LENGTH = 30
CHECKSUM_LENGTH = 6
KEY_LENGTH = len(PREFIX) + SECRET_LENGTH + CHECKSUM_LENGTH
NAME_MAX = 100
# last_used_at is written at most this often per key: a busy script is not a write per call.
LAST_USED_EVERY = timedelta(minutes=1)
EXPIRY_MAX = timedelta(days=366)


class KeyProblem(Exception):
    """A request to make a key that cannot be met: a code, a sentence, the field."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class KeyRefused(Exception):
    """A Bearer key that does not authenticate: unknown, revoked or expired."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    plaintext: str  # shown once, never stored


def base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def checksum(secret: str) -> str:
    return base62(zlib.crc32(secret.encode()), CHECKSUM_LENGTH)


def new_plaintext() -> str:
    secret = "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    return PREFIX + secret + checksum(secret)


def well_formed(token: str) -> bool:
    """The shape and the checksum: no database read for a mistyped or made-up key."""
    if len(token) != KEY_LENGTH or not token.startswith(PREFIX):
        return False
    body = token[len(PREFIX) :]
    if any(character not in ALPHABET for character in body):
        return False
    secret, check = body[:SECRET_LENGTH], body[SECRET_LENGTH:]
    return secrets.compare_digest(checksum(secret), check)


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_scopes(scopes) -> list[str]:
    if not isinstance(scopes, list) or not scopes:
        raise KeyProblem(
            "invalid_scopes", 'Send "scopes": a list of create, read, publish.', "scopes"
        )
    if any(scope not in ApiKey.Scope.values for scope in scopes):
        raise KeyProblem("invalid_scopes", "Scopes are create, read and publish.", "scopes")
    return [scope for scope in ApiKey.Scope.values if scope in scopes]


def clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise KeyProblem("name_required", "Give the key a name.", "name")
    name = name.strip()
    if "\x00" in name or len(name) > NAME_MAX:
        raise KeyProblem("invalid_name", f"A name of at most {NAME_MAX} characters.", "name")
    return name


def parse_expiry(value) -> datetime | None:
    """A request's optional expiry: ISO 8601 with its offset, in the coming year."""
    return parse_future_moment(
        value,
        label="The expiry",
        horizon=EXPIRY_MAX,
        too_far="A key can expire at most a year ahead.",
        refuse=lambda message: KeyProblem("invalid_expires_at", message, "expires_at"),
    )


def clean_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    now = timezone.now()
    if expires_at <= now or expires_at > now + EXPIRY_MAX:
        raise KeyProblem(
            "invalid_expires_at", "The expiry must be in the coming year.", "expires_at"
        )
    return expires_at


@transaction.atomic
def key_create(*, user, name, scopes, expires_at: datetime | None = None) -> NewKey:
    name, scopes, expires_at = clean_name(name), clean_scopes(scopes), clean_expiry(expires_at)
    # Lock the account's row so two requests at once cannot both pass the count.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= settings.PHOENIX_API_KEYS_MAX:
        raise KeyProblem(
            "too_many_keys",
            f"At most {settings.PHOENIX_API_KEYS_MAX} keys; revoke one you do not use.",
        )
    plaintext = new_plaintext()
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=plaintext[: len(PREFIX) + 8],
        key_hash=key_hash(plaintext),
        scopes=scopes,
        expires_at=expires_at,
    )
    return NewKey(key, plaintext)


def key_revoke(*, key: ApiKey) -> ApiKey:
    """At once: the next request with it is refused. Revoking twice keeps the first time."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def key_authenticate(token: str) -> ApiKey:
    """The active key this Bearer token is, with its owner; KeyRefused otherwise. Marks it
    used (at most once a minute)."""
    if not well_formed(token):
        raise KeyRefused("unknown", "This is not a Phoenix API key.")
    key = (
        ApiKey.objects.select_related("user")
        .filter(key_hash=key_hash(token), user__is_active=True)
        .first()
    )
    if key is None:
        raise KeyRefused("unknown", "No such API key.")
    if key.is_revoked:
        raise KeyRefused("revoked", "This API key was revoked.")
    if key.is_expired:
        raise KeyRefused("expired", "This API key has expired.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        # Guarded, so requests at once write it once.
        ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gt=now - LAST_USED_EVERY).update(
            last_used_at=now
        )
        key.last_used_at = now
    return key
