"""When the community's periodic job runs: registered with rqcron by phoenix/cron.py."""

from django.conf import settings

from . import entrypoints


def register_schedule(cron) -> None:
    # Every PHOENIX_COMMUNITY_RECOUNT_INTERVAL: likes, comments, follows and Explore's scores
    # recounted from the rows where they drifted (community.recount), in short batches.
    cron.register(
        entrypoints.recount_community,
        queue_name="housekeeping",
        interval=settings.PHOENIX_COMMUNITY_RECOUNT_INTERVAL,
        job_timeout=3600,
    )
