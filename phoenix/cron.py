"""Scheduled jobs, run by `python manage.py rqcron phoenix.cron` (visible in the dashboard)."""

from django.conf import settings
from rq import cron

from creations.generation import CHECK_JOB_TIMEOUT
from creations.jobs import check_remote_tasks, recover_creations
from creations.maintenance import expire_drafts_job
from ops.jobs import run_alert_checks, run_rollups

cron.register(recover_creations, queue_name="default", interval=60, job_timeout=300)
# Every remote task in flight (Runway) is looked at once per interval, in one batch job:
# one short job per interval rather than one per task, and nothing to lose with a worker
# (the next run reads the task ids from the database again). rqcron queues one every
# interval whatever happens: a check that finds another still running returns at once.
cron.register(
    check_remote_tasks,
    queue_name="default",
    interval=settings.PHOENIX_REMOTE_CHECK_INTERVAL,
    job_timeout=CHECK_JOB_TIMEOUT,
)
# Daily at 03:30 UTC: expired drafts to the trash, trash older than PHOENIX_TRASH_DAYS
# purged. Idempotent, so a missed or doubled run does no harm.
cron.register(expire_drafts_job, queue_name="default", cron="30 3 * * *", job_timeout=1800)
# Every minute: the alert checks, their incidents, and whoever is to be told (e-mail,
# webhook). A doubled run waits for the other's lock and sends nothing twice.
cron.register(run_alert_checks, queue_name="default", interval=60, job_timeout=300)
# Every minute: the running sums the figures read (ops.rollup), so a scrape or an alert run
# reads the rollup plus a minute of rows, never the whole ledger. Each step is a short
# transaction; a doubled run waits for the other's row lock and finds nothing left to add.
# (Belongs on the "housekeeping" queue once there is one.)
cron.register(run_rollups, queue_name="default", interval=60, job_timeout=600)
