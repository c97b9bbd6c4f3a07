"""Every job webhooks sends to RQ is sent here (named by its dotted path: this module,
below the services, never imports the job bodies)."""

import logging
from datetime import datetime

from redis.exceptions import RedisError

from phoenix import redis_clients

from .. import delivery

log = logging.getLogger(__name__)

QUEUE = "webhooks"
DELIVER_WEBHOOK = "webhooks.jobs.entrypoints.deliver_webhook"


def delivery_enqueue(delivery_id, *, at: datetime | None = None) -> None:
    """Queue a delivery's job, now or at `at`. Called after COMMIT. If Redis refuses, the
    row stays pending and the recovery pass sends its job later: never an error for the
    request or the job that made the event."""
    queue = redis_clients.get_queue(QUEUE)
    options = {
        "job_timeout": delivery.job_timeout(),
        "result_ttl": 3600,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"webhook delivery {delivery_id}",
    }
    try:
        if at is None:
            queue.enqueue(DELIVER_WEBHOOK, str(delivery_id), **options)
        else:
            queue.enqueue_at(at, DELIVER_WEBHOOK, str(delivery_id), **options)
    except RedisError:
        log.warning("Could not queue webhook delivery %s; recovery will", delivery_id)
