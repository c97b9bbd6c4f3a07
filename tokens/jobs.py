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


def register_schedule(cron) -> None:
    """When these run: registered with rqcron by phoenix/cron.py."""
    # Daily at 03:45 UTC: expired promo tokens leave by a ledger row per lot (a lot already
    # emptied is skipped, so twice is once).
    cron.register(
        expire_promo_tokens, queue_name="housekeeping", cron="45 3 * * *", job_timeout=1800
    )
    # Daily at 04:15 UTC: paid Checkout Sessions whose webhook never arrived are credited
    # (one credit per purchase, whatever else arrives meanwhile).
    cron.register(
        fulfil_missing_purchases, queue_name="housekeeping", cron="15 4 * * *", job_timeout=1800
    )
