"""The RQ worker Phoenix runs: RQ's forking worker, started warm.

A forked work horse begins as a copy of its parent. RQ's parent has only Django set up,
so every horse used to import the job's modules and pay every first-use cost of the ORM
and storage again, then throw it all away on exit. This worker pays them once, in the
parent, so each horse starts with them done.
"""

import gc
import logging
import uuid

from django.db import DatabaseError, connections
from rq.worker import SimpleWorker, Worker

from .fair_queue import FairQueue, FairWorkerMixin

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


class PreloadingWorker(FairWorkerMixin, Worker):
    # Its queues wait in the fair order whatever the command line names.
    queue_class = FairQueue

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


class FairSimpleWorker(FairWorkerMixin, SimpleWorker):
    """RQ's in-process worker on the fair order: for tests and the bench's comparisons."""

    queue_class = FairQueue
