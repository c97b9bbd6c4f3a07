"""Background work of creations, in one place:

- sending.py     — every enqueue (services call it after COMMIT; it imports no job body)
- generation.py  — the generation job's body (claim, generate or submit, store, complete)
- remote.py      — remote tasks after their submit: the periodic check and the fetches
- recovery.py    — the recovery pass (scheduled)
- housekeeping.py — the daily expiry and purge (scheduled, in batches)
- entrypoints.py — the functions RQ runs, thin wrappers around the above
- schedule.py    — when the periodic ones run (gathered by phoenix/cron.py)

Jobs queued by a deploy before this package existed name `creations.jobs.<function>` (a
scheduled post can wait a year): those names still resolve to the same entry points.
"""

from phoenix.jobs import legacy_job_names

__getattr__ = legacy_job_names(
    "creations.jobs.entrypoints",
    [
        "run_generation",
        "generate_creation",
        "check_remote_tasks",
        "fetch_remote_results",
        "recover_creations",
        "publish_scheduled_creation",
        "cancel_provider_task",
    ],
)
