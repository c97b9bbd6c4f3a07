"""RQ entry points of tokens: thin wrappers around the services, run daily by the RQ cron
(phoenix/cron.py) on `housekeeping`. Both are idempotent: a doubled or missed run does no
harm. (Tokens sends no job of its own: an entry-point module is all it needs.)"""

from django.utils import timezone

from phoenix.jobs import job_entrypoint

from . import payments, services


@job_entrypoint
def expire_promo_tokens() -> int:
    """Take expired lots' tokens out, each by its own ledger row; returns how many tokens."""
    return services.lots_expire(now=timezone.now())


@job_entrypoint
def fulfil_missing_purchases() -> int:
    """Credit paid Checkout Sessions whose webhook event never arrived."""
    return payments.purchases_catch_up()
