"""RQ entry points of tokens: thin wrappers around the services, run daily by the RQ cron
(phoenix/cron.py) on `housekeeping`. Both are idempotent: a doubled or missed run does no
harm."""

from django.db import close_old_connections
from django.utils import timezone

from . import payments, services
from .selectors import expired_lot_ids


def expire_promo_tokens() -> int:
    """Take expired lots' tokens out, each by its own ledger row; returns how many tokens."""
    close_old_connections()
    try:
        now = timezone.now()
        expired = 0
        while lot_ids := expired_lot_ids(now=now):
            expired += sum(services.lot_expire(lot_id=lot_id, now=now) for lot_id in lot_ids)
        return expired
    finally:
        close_old_connections()


def fulfil_missing_purchases() -> int:
    """Credit paid Checkout Sessions whose webhook event never arrived."""
    close_old_connections()
    try:
        return payments.purchases_catch_up()
    finally:
        close_old_connections()
