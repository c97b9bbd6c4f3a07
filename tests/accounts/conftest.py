from datetime import datetime

import pyotp
import pytest
from django.contrib.auth import get_user_model

from accounts import twofactor
from profiles.services import creator_signup

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_at(step_offset: int = 0, secret: str = SECRET) -> str:
    """The authenticator's code now (or `step_offset` 30-second steps away)."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now()) + step_offset
    return totp.at(now * twofactor.STEP)


def enable_two_factor(user) -> list[str]:
    """Two-factor sign-in on, as the settings page turns it on (a code a step ago, so that
    the current step is still unused); returns the recovery codes."""
    enabled = twofactor.two_factor_enable(user=user, secret=SECRET, code=code_at(-1))
    return enabled.recovery_codes


@pytest.fixture
def carol(db):
    """A creator with two-factor sign-in on, and her recovery codes."""
    user = creator_signup(username="carol", password="carol-password-123")
    user.recovery = enable_two_factor(user)
    return user


@pytest.fixture
def root(db):
    """A staff superuser without two-factor sign-in."""
    return get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-123")


def log_in(client, username: str, password: str, next_url: str = ""):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def signed_in_as(client):
    return client.session.get("_auth_user_id")
