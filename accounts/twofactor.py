"""Two-factor sign-in: a TOTP authenticator (RFC 6238, 30-second steps) and ten
single-use recovery codes.

A code is accepted for the current step or the one either side (clocks drift), and only
for a step later than the last one accepted (a code seen over a shoulder cannot be used
again). Recovery codes are random, so a keyed hash (HMAC with the SECRET_KEY) is as good
as a slow password hash and lets the code be found by its hash; each works once.

Wrong codes are counted per account (PHOENIX_2FA_FAILURES in PHOENIX_LOGIN_FAILURE_WINDOW),
like wrong passwords: only someone who knows the password reaches the code step, so the
count cannot be filled by a stranger to lock the owner out.
"""

import secrets
import time
from dataclasses import dataclass

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from phoenix import ratelimit

from .models import RecoveryCode, TwoFactor

RECOVERY_CODES = 10
STEP = 30
# Recovery codes: 10 characters of an alphabet without look-alikes, shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
FAILURE_SCOPE = "2fa-code"


class CodeRefused(Exception):
    """A wrong, reused or throttled code: `code` for the API, a sentence for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def is_enabled(user: AbstractBaseUser) -> bool:
    return TwoFactor.objects.filter(user_id=user.pk).exists()


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(*, user: AbstractBaseUser, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.get_username(), issuer_name=settings.PHOENIX_2FA_ISSUER
    )


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (nothing fetched; the page's CSP allows it)."""
    return segno.make(uri, error="m").svg_inline(
        scale=5, dark="#111", light="#fff", title="QR code for your authenticator app"
    )


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _step_of(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The step (of now and the ones either side) `code` is right for, or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now if now is not None else time.time()) // STEP
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def recovery_hash(user_id: int, code: str) -> str:
    return salted_hmac("phoenix.accounts.recovery-code", f"{user_id}:{_clean(code)}").hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _replace_recovery_codes(user: AbstractBaseUser) -> list[str]:
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user_id=user.pk, code_hash=recovery_hash(user.pk, code)) for code in codes
    )
    return codes


@dataclass(frozen=True)
class Enabled:
    two_factor: TwoFactor
    recovery_codes: list[str]  # shown once, never stored in clear


@transaction.atomic
def two_factor_enable(*, user: AbstractBaseUser, secret: str, code: str) -> Enabled:
    """Turn two-factor sign-in on with `secret`, once a code from the app proves the app has
    it; returns the ten recovery codes (the only time they exist in clear)."""
    if TwoFactor.objects.select_for_update().filter(user_id=user.pk).exists():
        raise CodeRefused("already_enabled", "Two-factor sign-in is on already.")
    step = _step_of(secret, _clean(code))
    if step is None:
        raise CodeRefused(
            "wrong_code", "That code is not right. Check the app's clock and try the next one."
        )
    two_factor = TwoFactor.objects.create(user_id=user.pk, secret=secret, last_step=step)
    return Enabled(two_factor, _replace_recovery_codes(user))


def _take_try(user: AbstractBaseUser) -> int:
    return ratelimit.take(FAILURE_SCOPE, str(user.pk), window=settings.PHOENIX_LOGIN_FAILURE_WINDOW)


def minutes_left() -> int:
    return -(-ratelimit.seconds_left(settings.PHOENIX_LOGIN_FAILURE_WINDOW) // 60)


def throttled(user: AbstractBaseUser) -> CodeRefused:
    return CodeRefused(
        "too_many_codes",
        f"Too many wrong codes. Try again in {minutes_left()} minutes.",
    )


def code_check(*, user: AbstractBaseUser, code: str) -> str:
    """Accept an authenticator code or an unused recovery code for `user` (which then can
    never be used again); returns "totp" or "recovery". Raises CodeRefused for a wrong or
    reused code, or when the account has had too many wrong ones in the window (counted
    before the check, given back when it passes)."""
    limit = settings.PHOENIX_2FA_FAILURES
    if limit and _take_try(user) > limit:
        raise throttled(user)
    used = _use_code(user, _clean(code))
    if used is None:
        raise CodeRefused("wrong_code", "That code is not right, or it was used already.")
    if limit:
        ratelimit.give_back(
            FAILURE_SCOPE, str(user.pk), window=settings.PHOENIX_LOGIN_FAILURE_WINDOW
        )
    return used


@transaction.atomic
def _use_code(user: AbstractBaseUser, code: str) -> str | None:
    two_factor = TwoFactor.objects.select_for_update().filter(user_id=user.pk).first()
    if two_factor is None:
        return None
    step = _step_of(two_factor.secret, code)
    if step is not None:
        if step <= two_factor.last_step:
            return None  # used already (this one, or a later one)
        two_factor.last_step = step
        two_factor.save(update_fields=["last_step"])
        return "totp"
    # A guarded update: two requests with one recovery code cannot both use it.
    used = RecoveryCode.objects.filter(
        user_id=user.pk, code_hash=recovery_hash(user.pk, code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return "recovery" if used else None


def recovery_codes_left(user: AbstractBaseUser) -> int:
    return RecoveryCode.objects.filter(user_id=user.pk, used_at__isnull=True).count()


@transaction.atomic
def recovery_codes_renew(*, user: AbstractBaseUser) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    return _replace_recovery_codes(user)


@transaction.atomic
def two_factor_disable(*, user: AbstractBaseUser) -> None:
    """Turn it off (the caller has checked the password and a code)."""
    TwoFactor.objects.filter(user_id=user.pk).delete()
    RecoveryCode.objects.filter(user_id=user.pk).delete()


@transaction.atomic
def demo_two_factor(user: AbstractBaseUser) -> tuple[str, list[str]]:
    """Two-factor sign-in for the demo admin (`make run`), made by a trusted hand: the key
    and the recovery codes, to print."""
    secret = new_secret()
    TwoFactor.objects.update_or_create(user_id=user.pk, defaults={"secret": secret})
    return secret, _replace_recovery_codes(user)
