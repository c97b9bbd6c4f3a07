"""RQ entry points of tokens: thin wrappers around the services, run daily by the RQ cron
(phoenix/cron.py) on `housekeeping`. Both are idempotent: a doubled or missed run does no
harm."""

from django.db import close_old_connections
from django.utils import timezone

from . import payments, services


def expire_promo_tokens() -> int:
    """Take expired lots' tokens out, each by its own ledger row; returns how many tokens."""
    close_old_connections()
    try:
        return services.lots_expire(now=timezone.now())
    finally:
        close_old_connections()


def fulfil_missing_purchases() -> int:
    """Credit paid Checkout Sessions whose webhook event never arrived."""
    close_old_connections()
    try:
        return payments.purchases_catch_up()
    finally:
        close_old_connections()
