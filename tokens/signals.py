"""What the token ledger tells the apps above it (notifications): tokens given to or
taken from a creator by someone else — the welcome grant, a staff grant or adjustment.
Sent after COMMIT, with the ledger entry; a listener's failure never undoes the money."""

from django.dispatch import Signal

# entry: the LedgerEntry (kind grant or adjustment; amount signed).
tokens_given = Signal()
