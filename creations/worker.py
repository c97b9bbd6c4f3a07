"""The RQ workers Phoenix runs: RQ's forking worker, started warm, for generation; a
non-forking one for the short jobs of the `light` queue.

A forked work horse begins as a copy of its parent. RQ's parent has only Django set up,
so every horse used to import the job's modules and pay every first-use cost of the ORM
and storage again, then throw it all away on exit. This worker pays them once, in the
parent, so each horse starts with them done.
"""

import gc
import logging
import uuid

from django.db import DatabaseError, close_old_connections, connections
from rq.worker import SimpleWorker, Worker

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import what a generation job imports and run its first query once.

    Claiming a creation that does not exist touches no row (an UPDATE of nothing) but
    builds, compiles and runs the claim the way a job does.
    """
    from django.core.files.storage import default_storage

    from . import generation, jobs  # noqa: F401
    from .providers import image_provider, video_provider

    # The configured providers import their own modules (Pillow, ffmpeg, SDKs).
    image_provider()
    video_provider()
    default_storage.location  # noqa: B018 - instantiates the lazy storage
    try:
        generation.creation_generate(creation_id=uuid.uuid4())
    except DatabaseError:
        # A database that is down at start is the horses' problem, not the worker's.
        log.warning("Could not warm up the database path; starting cold", exc_info=True)


class PreloadingWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warm_up()
        connections.close_all()
        # Everything loaded so far lives as long as the worker: keep the garbage collector
        # from walking it in each horse, which would copy every page it touches.
        gc.freeze()

    def fork_work_horse(self, job, queue):
        # Each horse connects to the database itself. A connection open in the parent at
        # fork would be one socket used by two processes.
        connections.close_all()
        super().fork_work_horse(job, queue)


class LightWorker(SimpleWorker):
    """The worker of the `light` queue: short jobs (e-mails, alerts, provider checks and
    fetches) run in the worker's own process, without a fork each.

    A fork cost more than such a job (rq's own no-op jobs: ~107/s forking, ~280/s in
    process). What a horse's exit used to clean up, this worker does between jobs: the
    database connections are checked (a stale or broken one, or one left in a transaction,
    is closed) before and after each job, whatever the job does itself. A job that hangs is
    still bounded: rq's death penalty is SIGALRM in this, the main, thread.
    """

    def execute_job(self, job, queue):
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections()
