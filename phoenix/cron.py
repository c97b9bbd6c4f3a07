"""Scheduled jobs, run by `python manage.py rqcron phoenix.cron` (visible in the dashboard)."""

from rq import cron

from creations.jobs import recover_creations

cron.register(recover_creations, queue_name="default", interval=60, job_timeout=300)
