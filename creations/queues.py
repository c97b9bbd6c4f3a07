"""Queues for enqueueing from the web and from services, and the Redis clients behind them.

One Redis client per process (django_rq.get_queue builds a new one per call), with short
socket timeouts so that a Redis that is down or paused fails a request quickly instead of
hanging it. With Sentinel configured (settings.REDIS_SENTINELS) the client is django-rq's
own Sentinel client, built from the same RQ_QUEUES settings as the workers', the
schedulers' and rqcron's: it asks the sentinels for the current primary and follows a
failover.
"""

import threading

from django.conf import settings
from django_rq.connection_utils import filter_connection_params, get_redis_connection
from redis import Redis
from rq import Queue

_queues: dict[str, Queue] = {}
_clients: list[tuple[dict, Redis]] = []

QUEUE_FOR_KIND = {"image": "images", "video": "videos"}


_made = threading.Lock()


def redis_client(config: dict) -> Redis:
    """A client for one RQ_QUEUES entry: Sentinel's when it names sentinels."""
    if "SENTINELS" in config:
        return get_redis_connection(config)
    return Redis.from_url(
        config["URL"],
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        health_check_interval=30,
    )


def _shared_client(config: dict) -> Redis:
    # Queues on the same Redis share one client. Called with _made held.
    params = filter_connection_params(config)
    for known, client in _clients:
        if known == params:
            return client
    client = redis_client(config)
    _clients.append((params, client))
    return client


def get_queue(name: str) -> Queue:
    queue = _queues.get(name)
    if queue is None:
        # One per process even when threads ask at once: a second client made meanwhile
        # would be dropped, and a dropped redis client closes its pool's connections,
        # in use or not.
        with _made:
            queue = _queues.get(name)
            if queue is None:
                config = settings.RQ_QUEUES[name]
                queue = _queues[name] = Queue(
                    name,
                    connection=_shared_client(config),
                    default_timeout=config.get("DEFAULT_TIMEOUT"),
                )
    return queue


def cache_redis() -> Redis:
    """The Redis for what may be evicted or lost (the throttles): REDIS_CACHE_URL's when
    set, else the queue Redis."""
    if not settings.REDIS_CACHE_URL:
        return get_queue("default").connection
    with _made:
        return _shared_client({"URL": settings.REDIS_CACHE_URL})


def queue_for_kind(kind: str) -> Queue:
    return get_queue(QUEUE_FOR_KIND[kind])


def reset() -> None:
    """Forget cached queues and clients (after RQ_QUEUES changes, e.g. in tests)."""
    with _made:
        _queues.clear()
        _clients.clear()


def job_id_for(creation_id) -> str:
    return f"creation-{creation_id}"
