"""Queues for enqueueing from the web and from services.

One Redis connection per process (django_rq.get_queue builds a new one per call), with
short socket timeouts so that a Redis that is down or paused fails a request quickly
instead of hanging it.
"""

import threading

from django.conf import settings
from redis import Redis
from rq import Queue

_queues: dict[str, Queue] = {}

QUEUE_FOR_KIND = {"image": "images", "video": "videos"}


_made = threading.Lock()


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
                connection = Redis.from_url(
                    config["URL"],
                    socket_timeout=5,
                    socket_connect_timeout=2,
                    health_check_interval=30,
                )
                queue = _queues[name] = Queue(
                    name, connection=connection, default_timeout=config.get("DEFAULT_TIMEOUT")
                )
    return queue


def queue_for_kind(kind: str) -> Queue:
    return get_queue(QUEUE_FOR_KIND[kind])


def reset() -> None:
    """Forget cached queues (after RQ_QUEUES changes, e.g. in tests)."""
    _queues.clear()


def job_id_for(creation_id) -> str:
    return f"creation-{creation_id}"
