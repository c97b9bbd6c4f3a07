"""Who may try to log in or sign up right now. Limits and windows are settings; 0 turns a
limit off.

Log-ins: tries that fail are limited per account *from one network*, so failing on a
creator's name from one place does not lock them out elsewhere; per network; and per
account from anywhere, with a much higher limit, as a backstop against an attack spread
over many networks (a try refused by a narrower limit does not count towards it, so only
such a spread attack can reach it). Sign-ups: per network, as each new account gets the
welcome grant.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from phoenix import ratelimit


def _account(username: str) -> str:
    # Case variants of one name count as one, so they cannot multiply an attacker's tries.
    return username.strip().casefold()


@dataclass(frozen=True)
class LoginTry:
    """One log-in try, counted against every limit before the password is checked."""

    counters: tuple[tuple[str, str], ...]  # (scope, subject) of the counts taken
    refused: bool

    def succeeded(self) -> None:
        # A right password is not a failure: give its counts back, and forget the
        # account's failures from this network.
        window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
        for scope, subject in self.counters:
            if scope == "login-account-network":
                done = ratelimit.forget(scope, subject, window=window)
            else:
                done = ratelimit.give_back(scope, subject, window=window)
            if not done:
                break  # Redis is down: the next counter would wait on it again


def login_try(request: HttpRequest, username: str) -> LoginTry:
    window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
    account = _account(username)
    network = ratelimit.client_ip(request)
    # Narrowest first; a try refused by one limit is not counted by the wider ones.
    limits = [
        ("login-account-network", f"{account}\n{network}", settings.PHOENIX_LOGIN_FAILURES),
        ("login-network", network, settings.PHOENIX_LOGIN_FAILURES_PER_NETWORK),
        ("login-account", account, settings.PHOENIX_LOGIN_FAILURES_PER_ACCOUNT),
    ]
    taken = []
    for scope, subject, limit in limits:
        if not limit:
            continue
        count = ratelimit.take(scope, subject, window=window)
        if not count:
            # Redis is down: let the try through (fail open) without waiting on Redis
            # once per counter; nothing was counted, so nothing is given back.
            break
        taken.append((scope, subject))
        if count > limit:
            return LoginTry(counters=tuple(taken), refused=True)
    return LoginTry(counters=tuple(taken), refused=False)


def login_minutes_left() -> int:
    return -(-ratelimit.seconds_left(settings.PHOENIX_LOGIN_FAILURE_WINDOW) // 60)


def signup_try(request: HttpRequest) -> bool:
    """Count a sign-up before the account is made; False when over the limit."""
    limit = settings.PHOENIX_SIGNUPS_PER_NETWORK
    if not limit:
        return True
    window = settings.PHOENIX_SIGNUP_WINDOW
    return ratelimit.take("signup", ratelimit.client_ip(request), window=window) <= limit


def signup_not_made(request: HttpRequest) -> None:
    """The form was invalid: that try made no account, so it does not count."""
    if settings.PHOENIX_SIGNUPS_PER_NETWORK:
        window = settings.PHOENIX_SIGNUP_WINDOW
        ratelimit.give_back("signup", ratelimit.client_ip(request), window=window)
