"""Who may try to log in, sign up, or ask for an e-mail right now. Limits and windows are
settings; 0 turns a limit off. A client is counted by its network: its IPv4 address or
its IPv6 /64 (ratelimit.client_network).

Log-ins from a browser that has not logged in to the account before: failures are
limited per account *from one network*, so failing on a creator's name from one place
does not lock them out elsewhere; per network; and per account from anywhere, with a
much higher limit, as a backstop against an attack spread over many networks (a try
refused by a narrower limit does not count towards it, so only such a spread attack can
reach it).

That backstop would let a stranger lock the owner out, so a browser that has logged in
to the account before (a signed known-device cookie, set at each successful log-in, and
by profiles.middleware on any signed-in request of a browser that lacks it) is not held
to it: it has a limit of its own, per account and browser, and its failures count
towards nothing else. A new browser of the owner, during such an attack, is told to use
a known browser, to wait, or (when the account has an address) to reset the password by
e-mail (the link logs in).

Sign-ups: per network. E-mails sent on request (password resets, confirmation links):
per network and per address.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest, HttpResponse

from phoenix import ratelimit

DEVICE_COOKIE = "phoenix_device"
DEVICE_SALT = "phoenix.profiles.known-device"
# One browser remembers this many accounts (a family computer), the latest first.
DEVICE_ACCOUNTS = 5


def _account(username: str) -> str:
    # Case variants of one name count as one, so they cannot multiply an attacker's tries.
    return username.strip().casefold()


@dataclass(frozen=True)
class KnownDevice:
    """What the signed cookie says: this browser's id, and the accounts (user ids) that
    logged in with it."""

    device: str
    user_ids: tuple[int, ...]


def known_device(request: HttpRequest) -> KnownDevice | None:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(
            value, salt=DEVICE_SALT, max_age=settings.PHOENIX_KNOWN_DEVICE_DAYS * 86400
        )
        return KnownDevice(device=str(data["d"]), user_ids=tuple(int(u) for u in data["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None  # forged, expired or from an older format: a new browser


def remember_device(request: HttpRequest, response: HttpResponse, user) -> None:
    """Mark this browser as one `user` has logged in with (after a successful log-in)."""
    known = known_device(request)
    device = known.device if known else secrets.token_urlsafe(16)
    others = [pk for pk in (known.user_ids if known else ()) if pk != user.pk]
    value = signing.dumps(
        {"d": device, "u": [user.pk, *others][:DEVICE_ACCOUNTS]}, salt=DEVICE_SALT
    )
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=settings.PHOENIX_KNOWN_DEVICE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _device_for(request: HttpRequest, username: str) -> str | None:
    """This browser's id if it has logged in to the account named `username` before."""
    known = known_device(request)
    if known is None:
        return None
    User = get_user_model()
    user_id = (
        User._default_manager.filter(**{User.USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )
    return known.device if user_id in known.user_ids else None


@dataclass(frozen=True)
class LoginTry:
    """One log-in try, counted against every limit before the password is checked."""

    counters: tuple[tuple[str, str], ...]  # (scope, subject) of the counts taken
    refused_by: str | None  # the scope of the limit that refused it

    @property
    def refused(self) -> bool:
        return self.refused_by is not None

    def succeeded(self) -> None:
        # A right password is not a failure: give its counts back, and forget the
        # account's failures from this network and this browser.
        window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
        for scope, subject in self.counters:
            if scope in ("login-account-network", "login-device"):
                done = ratelimit.forget(scope, subject, window=window)
            else:
                done = ratelimit.give_back(scope, subject, window=window)
            if not done:
                break  # Redis is down: the next counter would wait on it again


def login_try(request: HttpRequest, username: str) -> LoginTry:
    window = settings.PHOENIX_LOGIN_FAILURE_WINDOW
    account = _account(username)
    device = _device_for(request, username.strip())
    if device is not None:
        # The owner's own browser: not held to the limits a stranger can fill, only to
        # its own (a stolen cookie still gives few guesses).
        limits = [
            ("login-device", f"{account}\n{device}", settings.PHOENIX_LOGIN_FAILURES_PER_DEVICE)
        ]
    else:
        network = ratelimit.client_network(request)
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
            return LoginTry(counters=tuple(taken), refused_by=scope)
    return LoginTry(counters=tuple(taken), refused_by=None)


def login_minutes_left() -> int:
    return -(-ratelimit.seconds_left(settings.PHOENIX_LOGIN_FAILURE_WINDOW) // 60)


def _signup_counters(request: HttpRequest) -> list[tuple[str, str, int]]:
    """(scope, subject, limit) per counter: the client's network (IPv4 address or IPv6
    /64), and its IPv6 /48, as cheap to rent as a /64. An IPv4 client's /48 is its
    address, already counted: only the first applies."""
    network = ratelimit.client_network(request)
    counters = [("signup", network, settings.PHOENIX_SIGNUPS_PER_NETWORK)]
    wide = ratelimit.client_network(request, ipv6_prefix=48)
    if wide != network:
        counters.append(("signup-wide", wide, settings.PHOENIX_SIGNUPS_PER_WIDE_NETWORK))
    return [counter for counter in counters if counter[2]]


def signup_try(request: HttpRequest) -> bool:
    """Count a sign-up before the account is made; False when over a limit (a refused try
    is counted against every counter all the same: it was tried)."""
    window = settings.PHOENIX_SIGNUP_WINDOW
    over = [
        ratelimit.take(scope, subject, window=window) > limit
        for scope, subject, limit in _signup_counters(request)
    ]
    return not any(over)


def signup_not_made(request: HttpRequest) -> None:
    """The form was invalid: that try made no account, so it does not count."""
    window = settings.PHOENIX_SIGNUP_WINDOW
    for scope, subject, _limit in _signup_counters(request):
        ratelimit.give_back(scope, subject, window=window)


def _email_counters(request: HttpRequest, scope: str, address: str) -> list[tuple[str, str, int]]:
    return [
        (
            f"{scope}-network",
            ratelimit.client_network(request),
            settings.PHOENIX_EMAILS_PER_NETWORK,
        ),
        (f"{scope}-address", address.strip().casefold(), settings.PHOENIX_EMAILS_PER_ADDRESS),
    ]


def email_try(request: HttpRequest, scope: str, address: str) -> bool:
    """Count one e-mail asked for (`scope`: "password-reset", "confirm-email") to
    `address`, from the client's network; False when either is over its limit. Counted
    whether or not an account has that address, so the answer tells nothing."""
    window = settings.PHOENIX_EMAIL_WINDOW
    for scope_name, subject, limit in _email_counters(request, scope, address):
        if limit and ratelimit.take(scope_name, subject, window=window) > limit:
            return False
    return True


def email_not_sent(request: HttpRequest, scope: str, address: str) -> None:
    """The e-mail counted by email_try could not even be queued (and the person was told
    so): it does not count, so asking again is not refused for e-mails never sent."""
    window = settings.PHOENIX_EMAIL_WINDOW
    for scope_name, subject, limit in _email_counters(request, scope, address):
        if limit:
            ratelimit.give_back(scope_name, subject, window=window)


def email_minutes_left() -> int:
    return -(-ratelimit.seconds_left(settings.PHOENIX_EMAIL_WINDOW) // 60)
