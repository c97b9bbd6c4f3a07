"""Scheduled jobs, run by `python manage.py rqcron phoenix.cron` (visible in the dashboard).

Each app keeps the schedule of its periodic jobs beside them, in its jobs package or
module (`register_schedule`); this table only gathers them, in this order. Exactly one
rqcron in a deployment: two would enqueue every job twice.
"""

from rq import cron

from accounts.jobs.schedule import register_schedule as accounts_schedule
from community.jobs.schedule import register_schedule as community_schedule
from creations.jobs.schedule import register_schedule as creations_schedule
from ops.jobs import register_schedule as ops_schedule
from profiles.jobs import register_schedule as profiles_schedule
from tokens.jobs import register_schedule as tokens_schedule
from webhooks.jobs.schedule import register_schedule as webhooks_schedule

for register_schedule in (
    creations_schedule,
    ops_schedule,
    accounts_schedule,
    tokens_schedule,
    profiles_schedule,
    webhooks_schedule,
    community_schedule,
):
    register_schedule(cron)
