"""Counters of what happened to creations, counted when it happens and kept in Redis.

Each creation event (creations/events.py, sent after COMMIT) adds one to a field of one
Redis hash, so the web processes, the RQ work horses (a fork per job) and every host add
to the same count, and any of them can serve /metrics. The histogram of Generate → draft
seconds is kept the same way: per type, a count per bucket (not cumulative: ops/exporter.py
sums them up, and the +Inf total is the count) and the sum, written together in one MULTI
so a scrape never sees the sum without its bucket.

The hash is on the queue Redis (through Sentinel in production), counted with a client of
its own that fails fast: one try, short timeouts, no failover wait. A Redis error while
counting is logged and the increment dropped: the change it counts is already committed,
and must not fail, or wait, because a figure could not be written. After an error the
process stops counting for PAUSE_SECONDS, so a request that sends many events (a bulk
action of 100) pays one short timeout, not one each.
"""

import logging
import math
import threading
import time

from django.conf import settings
from django_rq.connection_utils import filter_connection_params
from redis import Redis
from redis.exceptions import RedisError

from creations.events import creation_event
from phoenix import redis_clients
from phoenix.redis_failover import no_retry

log = logging.getLogger(__name__)

# A command on a Redis that is up takes a millisecond; a socket read that takes this long
# is a Redis in trouble.
COUNT_TIMEOUT = 0.5
PAUSE_SECONDS = 30.0

KEY = "phoenix:ops:counters"
# Upper bounds (seconds) of the Generate → draft histogram; they frame the targets (20 s
# and 30 s for images, 120 s and 180 s for videos).
HISTOGRAM_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600)
SEP = "|"


def field(name: str, *labels: object) -> str:
    return SEP.join([name, *(str(label) for label in labels)])


def bucket_for(seconds: float) -> str:
    """The smallest bucket bound the value fits under, or "+Inf"."""
    for bound in HISTOGRAM_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return "+Inf"


def increments(event: str, kind: str, details: dict) -> tuple[dict[str, int], dict[str, float]]:
    """The hash fields an event adds to: ({field: by int}, {field: by float})."""
    if event == "completed":
        seconds = float(details["seconds"])
        if not math.isfinite(seconds) or seconds < 0:
            seconds = 0.0
        return (
            {
                field("completed", kind): 1,
                field("seconds_bucket", kind, bucket_for(seconds)): 1,
            },
            {field("seconds_sum", kind): seconds},
        )
    if event == "failed":
        return {field("failed", kind, details.get("code") or "unknown"): 1}, {}
    if event == "refunded":
        return {field("refunded", kind): 1, field("refunded_tokens"): int(details["amount"])}, {}
    if event == "canceled":
        return {field("canceled", kind): 1}, {}
    if event == "published":
        scheduled = "true" if details.get("scheduled") else "false"
        return {field("published", kind, scheduled): 1}, {}
    return {field("event", event, kind): 1}, {}


_made = threading.Lock()
_client: tuple[dict, Redis] | None = None  # (the queue Redis settings it was built for, it)
_paused_until = 0.0  # time.monotonic(): no counting before it


def counting_redis() -> Redis:
    """A client of the queue Redis built from the default queue's settings (Sentinel's when
    set: it still asks the sentinels for the current primary), made to fail fast like the
    cache's (REDIS_CACHE_CONNECT_TIMEOUT). New settings make a new client, with no pause."""
    global _client, _paused_until
    config = settings.RQ_QUEUES["default"]
    params = filter_connection_params(config)
    with _made:
        if _client is None or _client[0] != params:
            _paused_until = 0.0
            fast = {
                "socket_connect_timeout": settings.REDIS_CACHE_CONNECT_TIMEOUT,
                "socket_timeout": COUNT_TIMEOUT,
                "retry": no_retry(),
            }
            if "SENTINELS" in config:
                config = {
                    **config,
                    "CONNECTION_KWARGS": {**config.get("CONNECTION_KWARGS", {}), **fast},
                    "SENTINEL_KWARGS": {**config.get("SENTINEL_KWARGS", {}), **fast},
                }
            _client = (params, redis_clients.redis_client(config, **fast))
        return _client[1]


def reset() -> None:
    """Forget the client and any pause (after RQ_QUEUES changes, e.g. in tests)."""
    global _client, _paused_until
    with _made:
        _client, _paused_until = None, 0.0


def count(event: str, kind: str, details: dict) -> None:
    global _paused_until
    client = counting_redis()
    if time.monotonic() < _paused_until:
        return
    ints, floats = increments(event, kind, details)
    try:
        pipe = client.pipeline(transaction=True)
        for name, by in ints.items():
            pipe.hincrby(KEY, name, by)
        for name, by in floats.items():
            pipe.hincrbyfloat(KEY, name, by)
        pipe.execute()
    except (RedisError, OSError):
        _paused_until = time.monotonic() + PAUSE_SECONDS
        log.warning(
            "Could not count %s of a %s in Redis; not counting for %g s",
            event,
            kind,
            PAUSE_SECONDS,
            exc_info=True,
        )


def on_creation_event(sender, *, event: str, creation, details: dict, **kwargs) -> None:
    count(event, creation.kind, details)


def connect() -> None:
    creation_event.connect(on_creation_event, dispatch_uid="ops.counters")


def read() -> dict[str, float]:
    """Every counter field as a number (raises RedisError: the exporter decides)."""
    raw = redis_clients.get_queue("default").connection.hgetall(KEY)
    return {name.decode(): float(value) for name, value in raw.items()}
