"""What the token ledger tells the apps above it, sent after COMMIT; a listener's failure
is logged and never undoes the money (the balance has moved already).

- tokens_given (notifications listen): tokens given to or taken from a creator by someone
  else — the welcome grant, a staff grant or adjustment.
- balance_low (webhooks listen): a balance crossed below the low threshold.
"""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# entry: the LedgerEntry (kind grant or adjustment; amount signed).
tokens_given = Signal()
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
