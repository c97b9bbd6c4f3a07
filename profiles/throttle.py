"""Who may try to log in or sign up right now: failed log-ins per account and per network,
sign-ups per network. Limits and windows are settings; 0 turns a limit off."""

from django.conf import settings
from django.http import HttpRequest

from phoenix import ratelimit


def _account(username: str) -> str:
    # Case variants of one name count as one, so they cannot multiply an attacker's tries.
    return username.strip().casefold()


def login_locked(request: HttpRequest, username: str) -> bool:
    window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
    per_account = settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT
    per_network = settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK
    if per_account and (
        ratelimit.count("login-account", _account(username), window=window) >= per_account
    ):
        return True
    ip = ratelimit.client_ip(request)
    return bool(per_network) and (
        ratelimit.count("login-network", ip, window=window) >= per_network
    )


def login_failed(request: HttpRequest, username: str) -> None:
    window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
    ratelimit.hit("login-account", _account(username), window=window)
    ratelimit.hit("login-network", ratelimit.client_ip(request), window=window)


def login_succeeded(username: str) -> None:
    ratelimit.forget(
        "login-account", _account(username), window=settings.PHOENIX_LOGIN_FAILURE_WINDOW
    )


def login_minutes_left() -> int:
    return -(-ratelimit.seconds_left(settings.PHOENIX_LOGIN_FAILURE_WINDOW) // 60)


def signup_allowed(request: HttpRequest) -> bool:
    limit = settings.PHOENIX_SIGNUPS_PER_NETWORK
    window = settings.PHOENIX_SIGNUP_WINDOW
    ip = ratelimit.client_ip(request)
    return not limit or ratelimit.count("signup", ip, window=window) < limit


def signed_up(request: HttpRequest) -> None:
    window = settings.PHOENIX_SIGNUP_WINDOW
    ratelimit.hit("signup", ratelimit.client_ip(request), window=window)
