"""The one place a webhook request leaves Phoenix (the HTTP side of a delivery): the URL
checked (https, every address public: phoenix.outbound) when it is saved and again at every
send, the connection pinned to the address that send checked (a name that rebinds to
127.0.0.1 after the check is never reached), no redirect followed, no proxy from the
environment (it would connect to the name itself), and the answer's body never read.

With PHOENIX_WEBHOOKS_ALLOW_PRIVATE (local development only; settings refuses it with
DEBUG off) an endpoint may also be http:// on a loopback address. Nothing else opens.
"""

import ipaddress
import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from phoenix import outbound

MAX_URL_LENGTH = 2000


class UrlRefused(Exception):
    """A webhook URL Phoenix will not send to; `code` for the API, the message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_url(raw: str) -> str:
    """The address to connect to for the webhook URL `raw`, or UrlRefused with the reason."""
    allow_loopback = settings.PHOENIX_WEBHOOKS_ALLOW_PRIVATE
    if not isinstance(raw, str) or not raw or len(raw) > MAX_URL_LENGTH:
        raise UrlRefused("invalid_url", f"Give the URL, at most {MAX_URL_LENGTH} characters.")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError) as error:
        raise UrlRefused("invalid_url", "That is not a URL.") from error
    if url.scheme not in ("https", "http") or not url.host:
        raise UrlRefused("invalid_url", "Give a full URL, https://… with a host name.")
    if url.scheme == "http" and not allow_loopback:
        raise UrlRefused("https_required", "A webhook URL must use https://.")
    if url.userinfo:
        raise UrlRefused("invalid_url", "Leave the user name and password out of the URL.")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        address = outbound.checked_address(url.host, port, allow_loopback=allow_loopback)
    except outbound.HostUnresolvable as error:
        raise UrlRefused("unresolvable", f"{url.host} does not resolve to an address.") from error
    except outbound.AddressRefused as error:
        raise UrlRefused(
            "not_public",
            f"{url.host} is not a public address: webhooks go to the internet only.",
        ) from error
    # The connection goes to `address` alone: plain http only when that is loopback.
    if url.scheme == "http" and not outbound.loopback_address(ipaddress.ip_address(address)):
        raise UrlRefused("https_required", "Plain http:// is allowed on loopback only.")
    return address


@dataclass(frozen=True)
class Outcome:
    """One try: the answer's status (None: no answer), how long it took, what went wrong."""

    status_code: int | None
    duration_ms: int
    error: str = ""
    # Worth trying again later: no answer (timeout, connection), 5xx, 408, 429.
    retryable: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


RETRYABLE_STATUSES = {408, 429}


def post(url: str, *, body: str, headers: dict[str, str]) -> Outcome:
    started = time.monotonic()

    def took() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        address = check_url(url)
    except UrlRefused as refused:
        return Outcome(None, took(), f"Refused: {refused.message}", refused.code == "unresolvable")
    target, host_header, extensions = outbound.pinned(url, address)
    timeout = httpx.Timeout(settings.PHOENIX_WEBHOOK_TIMEOUT)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            with client.stream(
                "POST",
                target,
                content=body.encode("utf-8"),
                headers={**headers, **host_header},
                extensions=extensions,
            ) as response:
                status = response.status_code
    except httpx.TimeoutException:
        return Outcome(None, took(), "Timed out", retryable=True)
    except httpx.TransportError as error:
        return Outcome(None, took(), f"Could not connect ({type(error).__name__})", retryable=True)
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    error = ""
    if not 200 <= status < 300:
        error = "Redirects are not followed" if 300 <= status < 400 else f"HTTP {status}"
    return Outcome(status, took(), error, retryable)
