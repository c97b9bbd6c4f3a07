"""One Redis connection per process for enqueueing (django_rq.get_queue builds a new one)."""

import django_rq
from rq import Queue

_queues: dict[str, Queue] = {}

QUEUE_FOR_KIND = {"image": "images", "video": "videos"}


def get_queue(name: str) -> Queue:
    queue = _queues.get(name)
    if queue is None:
        queue = _queues[name] = django_rq.get_queue(name)
    return queue


def queue_for_kind(kind: str) -> Queue:
    return get_queue(QUEUE_FOR_KIND[kind])


def reset() -> None:
    """Forget cached queues (after REDIS_URL changes, e.g. in tests)."""
    _queues.clear()


def job_id_for(creation_id) -> str:
    return f"creation-{creation_id}"
