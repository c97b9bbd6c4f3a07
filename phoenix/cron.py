"""Scheduled jobs, run by `python manage.py rqcron phoenix.cron` (visible in the dashboard)."""

from rq import cron

from creations.jobs import recover_creations
from creations.maintenance import expire_drafts_job

cron.register(recover_creations, queue_name="default", interval=60, job_timeout=300)
# Daily at 03:30 UTC: expired drafts to the trash, trash older than PHOENIX_TRASH_DAYS
# purged. Idempotent, so a missed or doubled run does no harm.
cron.register(expire_drafts_job, queue_name="default", cron="30 3 * * *", job_timeout=1800)
