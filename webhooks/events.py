"""The listeners: what creations and tokens announce (after COMMIT) becomes webhook events.
Connected in apps.py; a failure here is logged by the sender and never reaches the
creation's job or the debit."""

from creations.models import Creation
from creations.presenters import creation_as_json

from . import services

# creations.events' event → the webhook event it is.
CREATION_EVENTS = {
    "completed": "creation.finished",  # processing → draft
    "failed": "creation.failed",
    "published": "creation.published",
}


def event_key(event_type: str, creation: Creation) -> str:
    """What makes it one event: the creation, and for a publication its moment too (a post
    unpublished and published again is news again)."""
    if event_type == "creation.published" and creation.published_at is not None:
        return f"{creation.pk}:{creation.published_at.isoformat()}"
    return str(creation.pk)


def on_creation_event(sender, *, event: str, creation: Creation, details=None, **kwargs) -> None:
    event_type = CREATION_EVENTS.get(event)
    if event_type is None:
        return
    # The creation as GET /api/creations/<id> shows it: the instance is the committed row
    # (the sender says so), its refund read now (written in the failure's transaction).
    services.event_emit(
        owner_id=creation.owner_id,
        event_type=event_type,
        key=event_key(event_type, creation),
        data=lambda: creation_as_json(creation),
    )


def on_balance_low(
    sender, *, user_id: int, balance: int, threshold: int, entry_id: int, **kwargs
) -> None:
    services.event_emit(
        owner_id=user_id,
        event_type="tokens.low",
        key=str(entry_id),
        data={"balance": balance, "threshold": threshold},
    )


def on_account_erasing(sender, *, user_id: int, **kwargs) -> None:
    """A deleted account's endpoints (URLs, secrets) and their logs go with it, in the
    deletion's transaction."""
    services.endpoints_erase(owner_id=user_id)
