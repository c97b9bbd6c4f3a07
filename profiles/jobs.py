"""RQ entry points of profiles: thin wrappers around services, run by rqcron
(phoenix/cron.py). (Profiles sends no job of its own: an entry-point module is all it
needs.)"""

from phoenix.jobs import job_entrypoint

from . import services


@job_entrypoint
def grant_held_welcomes() -> int:
    """Hourly: welcome grants held back by a capped day, oldest first, within today's cap."""
    return services.held_welcomes_grant()


def register_schedule(cron) -> None:
    """When it runs: registered with rqcron by phoenix/cron.py."""
    # Hourly: welcome grants held back on a day that reached PHOENIX_WELCOME_GRANTS_PER_DAY,
    # oldest first while today's cap has room (each held row locked: twice is once).
    cron.register(grant_held_welcomes, queue_name="light", interval=60 * 60, job_timeout=600)
