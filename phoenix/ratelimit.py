"""Fixed-window counters in Redis, for throttling what an attacker would repeat: failed
log-ins and sign-ups (each sign-up is granted welcome tokens).

They fail open: with Redis down nobody is locked out, and the error is logged.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.http import HttpRequest
from redis.exceptions import RedisError

from creations import queues

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets
    (PHOENIX_CLIENT_IP_HEADER, e.g. HTTP_CF_CONNECTING_IP behind Cloudflare)."""
    header = settings.PHOENIX_CLIENT_IP_HEADER
    value = request.META.get(header) or request.META.get("REMOTE_ADDR") or "unknown"
    # X-Forwarded-For style lists: the first address is the client's.
    return value.split(",")[0].strip()


def _key(scope: str, subject: str, window: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"phoenix:ratelimit:{scope}:{digest}:{int(time.time() // window)}"


def _redis():
    return queues.get_queue("default").connection


def count(scope: str, subject: str, *, window: int) -> int:
    try:
        value = _redis().get(_key(scope, subject, window))
    except RedisError:
        log.warning("Rate limit %s unavailable (Redis); allowing", scope, exc_info=True)
        return 0
    return int(value or 0)


def hit(scope: str, subject: str, *, window: int) -> None:
    key = _key(scope, subject, window)
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, window)
        pipe.execute()
    except RedisError:
        log.warning("Rate limit %s not recorded (Redis)", scope, exc_info=True)


def forget(scope: str, subject: str, *, window: int) -> None:
    try:
        _redis().delete(_key(scope, subject, window))
    except RedisError:
        log.warning("Rate limit %s not cleared (Redis)", scope, exc_info=True)


def seconds_left(window: int) -> int:
    """Until the current window ends and its counters start again from zero."""
    return window - int(time.time()) % window
