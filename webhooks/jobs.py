"""RQ entry points of webhooks, and the one module that queues them (on `webhooks`, a
non-forking worker of its own with its scheduler: retries wait in RQ's scheduler)."""

import logging
from datetime import datetime

from django.db import close_old_connections
from redis.exceptions import RedisError

from creations import queues

from . import delivery

log = logging.getLogger(__name__)

QUEUE = "webhooks"


def deliver_webhook(delivery_id: str) -> str:
    """One try of a delivery (nothing when it is not due: a duplicate job is harmless), and
    its retry scheduled when one is due."""
    close_old_connections()
    try:
        attempted = delivery.delivery_attempt(delivery_id=delivery_id)
    finally:
        close_old_connections()
    if attempted.retry_at is not None:
        delivery_enqueue(delivery_id, at=attempted.retry_at)
    return attempted.result


def recover_webhook_deliveries() -> int:
    """Run by rqcron every minute: the jobs of deliveries a lost worker or a lost job left
    behind are sent again (webhooks.delivery.deliveries_resume)."""
    close_old_connections()
    try:
        ids = delivery.deliveries_resume()
    finally:
        close_old_connections()
    for delivery_id in ids:
        delivery_enqueue(delivery_id)
    return len(ids)


def delivery_enqueue(delivery_id, *, at: datetime | None = None) -> None:
    """Queue a delivery's job, now or at `at`. Called after COMMIT. If Redis refuses, the
    row stays pending and the recovery pass sends its job later: never an error for the
    request or the job that made the event."""
    queue = queues.get_queue(QUEUE)
    options = {
        "job_timeout": delivery.job_timeout(),
        "result_ttl": 3600,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"webhook delivery {delivery_id}",
    }
    try:
        if at is None:
            queue.enqueue(deliver_webhook, str(delivery_id), **options)
        else:
            queue.enqueue_at(at, deliver_webhook, str(delivery_id), **options)
    except RedisError:
        log.warning("Could not queue webhook delivery %s; recovery will", delivery_id)
