"""RQ entry points of profiles: thin wrappers around services, run by rqcron
(phoenix/cron.py). (Profiles sends no job of its own: an entry-point module is all it
needs.)"""

from phoenix.jobs import job_entrypoint

from . import services


@job_entrypoint
def grant_held_welcomes() -> int:
    """Hourly: welcome grants held back by a capped day, oldest first, within today's cap."""
    return services.held_welcomes_grant()
