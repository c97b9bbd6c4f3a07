"""Counters of what happened to creations, counted when it happens and kept in Redis.

Each creation event (creations/events.py, sent after COMMIT) adds one to a field of one
Redis hash, so the web processes, the RQ work horses (a fork per job) and every host add
to the same count, and any of them can serve /metrics. The histogram of Generate → draft
seconds is kept the same way: per type, a count per bucket (not cumulative: ops/exporter.py
sums them up), the sum and the count, written together in one MULTI so a scrape never
sees the count without its bucket.

The hash goes through the default queue's Redis client (Sentinel's in production). A
Redis error while counting is logged and the increment dropped: the change it counts is
already committed, and must not fail because a figure could not be written.
"""

import logging
import math

from redis.exceptions import RedisError

from creations import queues
from creations.events import creation_event

log = logging.getLogger(__name__)

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
                field("seconds_count", kind): 1,
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


def count(event: str, kind: str, details: dict) -> None:
    ints, floats = increments(event, kind, details)
    try:
        pipe = queues.get_queue("default").connection.pipeline(transaction=True)
        for name, by in ints.items():
            pipe.hincrby(KEY, name, by)
        for name, by in floats.items():
            pipe.hincrbyfloat(KEY, name, by)
        pipe.execute()
    except (RedisError, OSError):
        log.warning("Could not count %s of a %s in Redis", event, kind, exc_info=True)


def on_creation_event(sender, *, event: str, creation, details: dict, **kwargs) -> None:
    count(event, creation.kind, details)


def connect() -> None:
    creation_event.connect(on_creation_event, dispatch_uid="ops.counters")


def read() -> dict[str, float]:
    """Every counter field as a number (raises RedisError: the exporter decides)."""
    raw = queues.get_queue("default").connection.hgetall(KEY)
    return {name.decode(): float(value) for name, value in raw.items()}
