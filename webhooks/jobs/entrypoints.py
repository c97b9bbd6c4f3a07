"""RQ entry points of webhooks: thin wrappers around webhooks.delivery."""

from phoenix.jobs import job_entrypoint

from .. import delivery
from . import sending


@job_entrypoint
def deliver_webhook(delivery_id: str) -> str:
    """One try of a delivery (nothing when it is not due: a duplicate job is harmless), and
    its retry scheduled when one is due."""
    attempted = delivery.delivery_attempt(delivery_id=delivery_id)
    if attempted.retry_at is not None:
        sending.delivery_enqueue(delivery_id, at=attempted.retry_at)
    return attempted.result


@job_entrypoint
def recover_webhook_deliveries() -> int:
    """Run by rqcron every minute: the jobs of deliveries a lost worker or a lost job left
    behind are sent again (webhooks.delivery.deliveries_resume)."""
    ids = delivery.deliveries_resume()
    for delivery_id in ids:
        sending.delivery_enqueue(delivery_id)
    return len(ids)
