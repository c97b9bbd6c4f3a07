"""RQ entry points of webhooks: thin wrappers around webhooks.delivery."""

from django.db import close_old_connections

from .. import delivery
from . import sending


def deliver_webhook(delivery_id: str) -> str:
    """One try of a delivery (nothing when it is not due: a duplicate job is harmless), and
    its retry scheduled when one is due."""
    close_old_connections()
    try:
        attempted = delivery.delivery_attempt(delivery_id=delivery_id)
    finally:
        close_old_connections()
    if attempted.retry_at is not None:
        sending.delivery_enqueue(delivery_id, at=attempted.retry_at)
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
        sending.delivery_enqueue(delivery_id)
    return len(ids)
