"""The generation queues: which queue a type waits in, and a creation's job id. The queues
and Redis clients themselves are phoenix.redis_clients' (get_queue and reset are named
here too, for creations' own callers)."""

from rq import Queue

from phoenix.redis_clients import get_queue, reset

__all__ = ["QUEUE_FOR_KIND", "get_queue", "job_id_for", "queue_for_kind", "reset"]

QUEUE_FOR_KIND = {"image": "images", "video": "videos"}


def queue_for_kind(kind: str) -> Queue:
    return get_queue(QUEUE_FOR_KIND[kind])


def job_id_for(creation_id) -> str:
    return f"creation-{creation_id}"
