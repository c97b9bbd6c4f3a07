"""The Redis clients of a process, and the RQ queues built on them: every app takes its
queue or its client here (creations.queues adds the generation queues' names).

One Redis client per process (django_rq.get_queue builds a new one per call), with short
socket timeouts so that a Redis that is down or paused fails a request quickly instead of
hanging it. With Sentinel configured (settings.REDIS_SENTINELS) the client is django-rq's
own Sentinel client, built from the same RQ_QUEUES settings as the workers', the
schedulers' and rqcron's: it asks the sentinels for the current primary and follows a
failover.
"""

import threading

from django.conf import settings
from django.utils.module_loading import import_string
from django_rq.connection_utils import filter_connection_params, get_redis_connection
from redis import Redis
from rq import Queue

from phoenix.redis_failover import no_retry

_queues: dict[str, Queue] = {}
_clients: list[tuple[dict, Redis]] = []
_probes: list[Redis] = []

_made = threading.Lock()


def redis_client(config: dict, **url_kwargs) -> Redis:
    """A client for one RQ_QUEUES entry: Sentinel's when it names sentinels."""
    if "SENTINELS" in config:
        return get_redis_connection(config)
    kwargs = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "health_check_interval": 30,
        **url_kwargs,
    }
    return Redis.from_url(config["URL"], **kwargs)


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
                queue_class = import_string(
                    config.get("QUEUE_CLASS") or settings.RQ.get("QUEUE_CLASS", "rq.Queue")
                )
                queue = _queues[name] = queue_class(
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
        config = {"URL": settings.REDIS_CACHE_URL}
        params = filter_connection_params(config)
        for known, client in _clients:
            if known == params:
                return client
        # It fails open, so it should fail fast: one try, a short connect timeout.
        client = redis_client(
            config,
            socket_connect_timeout=settings.REDIS_CACHE_CONNECT_TIMEOUT,
            retry=no_retry(),
        )
        _clients.append((params, client))
        return client


def probe_redis() -> Redis:
    """A client of the queue Redis that tries once, without the failover wait: /readyz
    must answer now, whatever a command from a request would wait for."""
    with _made:
        if not _probes:
            config = settings.RQ_QUEUES["default"]
            if "SENTINELS" in config:
                kwargs = {**config.get("CONNECTION_KWARGS", {}), "retry": no_retry()}
                config = {**config, "CONNECTION_KWARGS": kwargs}
            _probes.append(redis_client(config, retry=no_retry()))
        return _probes[0]


def reset() -> None:
    """Forget cached queues and clients (after RQ_QUEUES changes, e.g. in tests)."""
    with _made:
        _queues.clear()
        _clients.clear()
        _probes.clear()
