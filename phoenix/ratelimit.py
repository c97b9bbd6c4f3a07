"""Fixed-window counters in Redis, for throttling what an attacker would repeat: failed
log-ins and sign-ups (each sign-up is granted welcome tokens).

A try is counted *before* the work it guards (INCR is atomic), so requests sent in
parallel cannot all slip under a limit while each is still being checked; a try that
turns out not to count is given back. The counters fail open: with Redis down nobody is
locked out, and the error is logged.
"""

import hashlib
import ipaddress
import logging
import time

from django.conf import settings
from django.http import HttpRequest
from redis.exceptions import RedisError

from phoenix import redis_clients

log = logging.getLogger(__name__)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]").split("%")[0])
    except ValueError:
        return None


def _trusted_proxy(text: str) -> bool:
    address = _address(text)
    if address is None:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in trusted_proxies())


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in settings.PHOENIX_TRUSTED_PROXIES
        if entry.strip()
    ]


def client_ip(request: HttpRequest) -> str:
    """The client's address: the peer (REMOTE_ADDR); or, when the peer is one of our own
    proxies (PHOENIX_TRUSTED_PROXIES), the header they set (PHOENIX_CLIENT_IP_HEADER). In a
    list such as X-Forwarded-For each proxy appends the address it saw: the right-most
    entry that is not one of our proxies is the client; the ones before it are whatever
    the client sent. A header from anyone else is the client's own word, and ignored."""
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    header = settings.PHOENIX_CLIENT_IP_HEADER
    if header == "REMOTE_ADDR" or not _trusted_proxy(peer):
        return peer
    value = request.META.get(header)
    if not value:
        return peer
    entries = [entry.strip() for entry in value.split(",")]
    for entry in reversed(entries):
        if entry and not _trusted_proxy(entry):
            return entry
    return entries[0] or peer


def client_network(request: HttpRequest, *, ipv6_prefix: int = 64) -> str:
    """What the throttles count a client as: its IPv4 address, or the /64 (`ipv6_prefix`)
    of its IPv6 address. One home, phone or server is given a whole /64, so counting single IPv6
    addresses would give one client 2**64 fresh limits. An IPv4-mapped IPv6 address is
    the IPv4 client it maps; anything unparsable is counted as the text it is."""
    value = client_ip(request)
    text = value.removeprefix("[").removesuffix("]").split("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return value
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    return str(address)


def _key(scope: str, subject: str, window: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"phoenix:ratelimit:{scope}:{digest}:{int(time.time() // window)}"


def _redis():
    return redis_clients.cache_redis()


def take(scope: str, subject: str, *, window: int, amount: int = 1) -> int:
    """Count `amount` more tries in the current window and return the count (0 if Redis is
    down: a caller with more counters to take should not wait on Redis again)."""
    key = _key(scope, subject, window)
    try:
        pipe = _redis().pipeline()
        pipe.incrby(key, amount)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    except RedisError:
        log.warning("Rate limit %s unavailable (Redis); allowing", scope, exc_info=True)
        return 0
    return int(count)


def give_back(scope: str, subject: str, *, window: int, amount: int = 1) -> bool:
    """Uncount `amount` tries (they turned out not to count: a valid log-in, an invalid
    form). False if Redis is down."""
    key = _key(scope, subject, window)
    try:
        pipe = _redis().pipeline()
        pipe.decrby(key, amount)
        # If the window turned in between, this made a new key: let it expire too.
        pipe.expire(key, window)
        pipe.execute()
    except RedisError:
        log.warning("Rate limit %s not given back (Redis)", scope, exc_info=True)
        return False
    return True


def forget(scope: str, subject: str, *, window: int) -> bool:
    """Clear a counter; False if Redis is down."""
    try:
        _redis().delete(_key(scope, subject, window))
    except RedisError:
        log.warning("Rate limit %s not cleared (Redis)", scope, exc_info=True)
        return False
    return True


def seconds_left(window: int) -> int:
    """Until the current window ends and its counters start again from zero."""
    return window - int(time.time()) % window
