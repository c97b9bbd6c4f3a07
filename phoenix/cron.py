"""Scheduled jobs, run by `python manage.py rqcron phoenix.cron` (visible in the dashboard).

Each goes to the queue of its size: recovery on `default` (a forking worker of its own,
never behind a long video), the short periodic jobs on `light` (a non-forking worker: a
fork per check every few seconds cost more than the check), and the daily housekeeping on
`housekeeping` (a worker of its own, so nothing ever waits behind it).
"""

from django.conf import settings
from rq import cron

from accounts.jobs import accounts_housekeeping
from community.jobs.entrypoints import recount_community
from creations.generation import CHECK_JOB_TIMEOUT
from creations.jobs import check_remote_tasks, recover_creations
from creations.maintenance import HOUSEKEEPING_BATCH_TIMEOUT, expire_drafts_job
from ops.jobs import run_alert_checks, run_rollups
from profiles.jobs import grant_held_welcomes
from tokens.jobs import expire_promo_tokens, fulfil_missing_purchases

cron.register(recover_creations, queue_name="default", interval=60, job_timeout=300)
# Every remote task in flight (Runway) is looked at once per interval, in one batch job:
# one short job per interval rather than one per task, and nothing to lose with a worker
# (the next run reads the task ids from the database again). rqcron queues one every
# interval whatever happens: a check that finds another still running, or that comes too
# soon after the last one (queued up behind something), returns at once.
cron.register(
    check_remote_tasks,
    queue_name="light",
    interval=settings.PHOENIX_REMOTE_CHECK_INTERVAL,
    job_timeout=CHECK_JOB_TIMEOUT,
)
# Daily at 03:30 UTC: expired drafts to the trash, trash older than PHOENIX_TRASH_DAYS
# purged, PHOENIX_HOUSEKEEPING_BATCH at a time (each batch queues the next). Idempotent,
# so a missed or doubled run does no harm.
cron.register(
    expire_drafts_job,
    queue_name="housekeeping",
    cron="30 3 * * *",
    job_timeout=HOUSEKEEPING_BATCH_TIMEOUT,
)
# Every minute: the alert checks, their incidents, and whoever is to be told (e-mail,
# webhook). A doubled run waits for the other's lock and sends nothing twice.
cron.register(run_alert_checks, queue_name="light", interval=60, job_timeout=300)
# Every minute: the running sums the figures read (ops.rollup), so a scrape or an alert run
# reads the rollup plus a minute of rows, never the whole ledger. Each step is a short
# transaction; a doubled run waits for the other's row lock and finds nothing left to add.
# The figures stay exact while it lags (rollup + the rows since), so it waits with the rest
# of the housekeeping.
cron.register(run_rollups, queue_name="housekeeping", interval=60, job_timeout=600)
# Daily at 03:30 UTC: data exports past PHOENIX_EXPORT_DAYS removed (file and row), the purge
# of any deleted account whose job was lost finished, and exports whose job was lost sent
# again. Idempotent.
cron.register(
    accounts_housekeeping,
    queue_name="housekeeping",
    cron="30 3 * * *",
    job_timeout=HOUSEKEEPING_BATCH_TIMEOUT,
)
# Daily at 03:45 UTC: expired promo tokens leave by a ledger row per lot (a lot already
# emptied is skipped, so twice is once).
cron.register(expire_promo_tokens, queue_name="housekeeping", cron="45 3 * * *", job_timeout=1800)
# Daily at 04:15 UTC: paid Checkout Sessions whose webhook never arrived are credited (one
# credit per purchase, whatever else arrives meanwhile).
cron.register(
    fulfil_missing_purchases, queue_name="housekeeping", cron="15 4 * * *", job_timeout=1800
)
# Every PHOENIX_COMMUNITY_RECOUNT_INTERVAL: likes, comments, follows and Explore's scores
# recounted from the rows where they drifted (community.recount), in short batches.
cron.register(
    recount_community,
    queue_name="housekeeping",
    interval=settings.PHOENIX_COMMUNITY_RECOUNT_INTERVAL,
    job_timeout=3600,
)
# Hourly: welcome grants held back on a day that reached PHOENIX_WELCOME_GRANTS_PER_DAY,
# oldest first while today's cap has room (each held row locked: twice is once).
cron.register(grant_held_welcomes, queue_name="light", interval=60 * 60, job_timeout=600)
