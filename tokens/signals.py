"""What tokens tell the rest of Phoenix (webhooks listen), sent after COMMIT.

A listener's failure is logged and never reaches the debit: the balance has moved already.
"""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# Sent with: user_id, balance (after the change), threshold, entry_id (the ledger row that
# took the balance below the threshold: one event per crossing).
balance_low = Signal()


def announce_balance_low(*, user_id: int, balance: int, threshold: int, entry_id: int) -> None:
    """Tell the listeners after COMMIT (at once when no transaction is open)."""
    details = {"user_id": user_id, "balance": balance, "threshold": threshold, "entry_id": entry_id}
    transaction.on_commit(partial(_send, details))


def _send(details: dict) -> None:
    for receiver, outcome in balance_low.send_robust(sender=None, **details):
        if isinstance(outcome, Exception):
            log.error(
                "A listener (%r) failed on the low balance of user %s",
                receiver,
                details["user_id"],
                exc_info=(type(outcome), outcome, outcome.__traceback__),
            )
