"""The RQ workers Phoenix runs: RQ's forking worker, started warm, for generation; a
non-forking one for the short jobs of the `light` queue.

A forked work horse begins as a copy of its parent. RQ's parent has only Django set up,
so every horse used to import the job's modules and pay every first-use cost of the ORM
and storage again, then throw it all away on exit. This worker pays them once, in the
parent, so each horse starts with them done.
"""

import functools
import gc
import logging
import mmap
import os
import uuid

import redis.utils
from django.db import DEFAULT_DB_ALIAS, DatabaseError, close_old_connections, connections
from psycopg.pq import TransactionStatus
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq.worker import SimpleWorker, Worker

from .fair_queue import FairQueue, FairWorkerMixin

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import what a generation job imports and run its first query once.

    Claiming a creation that does not exist touches no row (an UPDATE of nothing) but
    builds, compiles and runs the claim the way a job does.
    """
    from django.core.files.storage import default_storage

    from .jobs import entrypoints, generation  # noqa: F401
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
    """RQ's forking worker, warm, whose horses take over one database session in turn.

    A new PostgreSQL session per horse was most of a short job's time: the connection
    (a server process started, authenticated) and then the server's cold catalog caches
    on the first query of every table. Measured with an instant provider on a loaded
    2-core box: ~9 ms to connect and ~20 ms more of first queries, of a ~70 ms horse.

    So the parent opens a session before each fork and never uses it while a horse lives;
    the horse uses it as its own. A horse that leaves it clean (idle, in autocommit, no
    error, the session it was given) says so in a shared word before it exits, and the
    next horse gets the same session; anything else (a horse killed or cut off mid-query,
    a transaction left open, a connection closed or replaced) and the parent closes it
    (the server rolls back whatever was left) and opens another for the next horse. The
    horse exits without closing it (os._exit): the parent's copy of the socket keeps the
    session. psycopg's auto-prepared statements stay off on it (Django's default, kept
    even if OPTIONS turn them on): a horse's server-side statements would be unknown to
    the next horse's copy of the client, which would prepare them again under the same
    names.
    """

    # Its queues wait in the fair order whatever the command line names.
    queue_class = FairQueue

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warm_up()
        connections.close_all()
        # redis-py reads its own version from its package's metadata (a file parsed, 1-2 ms
        # here) for every connection it makes, and every horse makes its own (RQ's, the
        # counters'): read it once, here.
        redis.utils.get_lib_version = functools.cache(redis.utils.get_lib_version)
        # The backend pid of the session the last horse left clean (0: none).
        self._left_clean = mmap.mmap(-1, 8)
        # Everything loaded so far lives as long as the worker: keep the garbage collector
        # from walking it in each horse, which would copy every page it touches.
        gc.freeze()

    def fork_work_horse(self, job, queue):
        self._hand_down_connection()
        super().fork_work_horse(job, queue)

    def execute_job(self, job, queue):
        try:
            super().execute_job(job, queue)
        except (RedisConnectionError, RedisTimeoutError):
            # Redis failed over while this process kept the horse's books (RQ writes the
            # working time and the state without retrying past the client's own retry),
            # and RQ would end the worker there, leaving every queued job to wait for
            # another. The horse's own writes decide its job (and the creation's guarded
            # claim decides the creation): this worker keeps its horse watched and goes on.
            log.warning("Redis failed while watching job %s; carrying on", job.id, exc_info=True)
            if self._horse_pid and _alive(self._horse_pid):
                self.monitor_work_horse(job, queue)
            self._horse_pid = 0
        finally:
            self._take_back_connection()

    def perform_job(self, job, queue):
        # In the horse (a forking worker performs jobs only there).
        try:
            return super().perform_job(job, queue)
        finally:
            self._left_clean[:] = _clean_session_pid().to_bytes(8, "little")

    def _hand_down_connection(self) -> None:
        self._left_clean[:] = bytes(8)
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.connection is not None:
            return  # the session the last horse left clean
        try:
            connection.ensure_connection()
        except DatabaseError:
            # Down: the horse tries itself, and its job fails or waits as it always did.
            connection.close()
            return
        connection.connection.prepare_threshold = None

    def _take_back_connection(self) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.connection is None:
            return
        left = int.from_bytes(self._left_clean[:], "little")
        if left == 0 or left != connection.connection.info.backend_pid:
            connection.close()


def _alive(pid: int) -> bool:
    """Whether the horse is still there to wait for (not yet reaped)."""
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _clean_session_pid() -> int:
    """The backend pid of this process's database session if it is fit for another job
    (idle, autocommit, no error, open); else 0."""
    connection = connections[DEFAULT_DB_ALIAS]
    raw = connection.connection
    if (
        raw is None
        or raw.closed
        or raw.broken
        or connection.in_atomic_block
        or not connection.autocommit
        or connection.errors_occurred
        or connection.needs_rollback
        or raw.info.transaction_status != TransactionStatus.IDLE
    ):
        return 0
    return raw.info.backend_pid


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


class FairSimpleWorker(FairWorkerMixin, SimpleWorker):
    """RQ's in-process worker on the fair order: for tests and the bench's comparisons."""

    queue_class = FairQueue
