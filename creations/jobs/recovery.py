"""The recovery pass (every minute from rqcron, and `manage.py recover_creations`): publish
scheduled posts whose time has passed, send lost jobs again, and fail and refund what is
truly stuck, saying which. Every write goes through the services (guarded updates, the one
refund), so it is safe to run at any time, and twice at once."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from creations import fair_queue, queues, services
from creations.models import Creation

from . import remote, sending

log = logging.getLogger(__name__)

# How long one recovery pass may spend asking a provider about tasks past their deadline.
RECOVERY_ASK_SECONDS = 60
# Rows read, and job statuses asked of Redis, at a time.
RECOVERY_BATCH = 500

ACTIVE_JOB_STATUSES = {
    JobStatus.QUEUED,
    JobStatus.STARTED,
    JobStatus.SCHEDULED,
    JobStatus.DEFERRED,
}


def creations_recover(*, now=None) -> dict[str, int]:
    """The recovery pass: publish scheduled posts whose time has passed, enqueue again
    pending creations whose job is not in Redis, and fail and refund what is truly stuck,
    saying which (stuck_reason). Safe to run at any time, and twice at once: the claim, the
    guarded updates and the refund constraint decide."""
    # Claims are timed by Redis's clock: only a caller's own `now` (a test's) overrides it.
    claims_now = now.timestamp() if now is not None else None
    now = now or timezone.now()
    counts = {"reenqueued": 0, "failed": 0, "published": 0}
    # Scheduled posts whose time has passed (the scheduler was down, Redis was flushed).
    due = Creation.objects.filter(
        status=Creation.Status.SCHEDULED, publish_at__lte=now, trashed_at__isnull=True
    ).values_list("pk", flat=True)
    for creation_id in due:
        counts["published"] += services.creation_publish_due(creation_id=creation_id, now=now)
    # Jobs popped by a worker that died before starting them go back to the head of the
    # order (creations/fair_queue.py); they are still `queued` for RQ, so the resend below
    # would not see them.
    try:
        counts["reenqueued"] += fair_queue.requeue_abandoned(
            queues.get_queue("images").connection, now=claims_now
        )
    except RedisError:
        log.warning("Redis unavailable; abandoned jobs wait for the next recovery pass")
    queue_moved: dict[str, bool] = {}
    # Asking the provider about remote tasks past their deadline stops after a while (it
    # may be down); those not asked wait for the next pass.
    ask_until = time.monotonic() + RECOVERY_ASK_SECONDS
    stuck = Creation.objects.filter(status__in=Creation.IN_FLIGHT).select_related("owner")
    waiting = []
    for creation in stuck.iterator(chunk_size=RECOVERY_BATCH):
        if now >= creation.deadline:
            code = stuck_reason(creation, now=now, queue_moved=queue_moved)
            may_ask = time.monotonic() < ask_until
            if code == "timed_out" and _result_on_its_way(creation, now=now, may_ask=may_ask):
                continue
            if code == "worker_lost":
                settled = remote.orphan_settle(creation, judged_at=now)
                if settled is not None:
                    counts["failed"] += settled == "failed"
                    continue
            if code is not None:
                if services.creation_fail_past_deadline(
                    creation=creation, code=code, judged_at=now
                ):
                    counts["failed"] += 1
                    if creation.provider_task_id:
                        _cancel_remote_task(creation)
                continue
        since = creation.requeued_at or creation.created_at
        if creation.status == Creation.Status.PENDING and (
            (now - since).total_seconds() >= settings.PHOENIX_REENQUEUE_AFTER
        ):
            waiting.append(creation)
    # The intents of creations that ended while the worker sending them was lost: a task
    # may bill under an id we do not know; staff see them (as a lost answer of a creation
    # in flight is shown, above). Only once no job sending them can still be running.
    longest_job = max(settings.PHOENIX_JOB_TIMEOUT.values()) + settings.PHOENIX_DEADLINE_GRACE
    for orphan in services.abandoned_intents(before=now - timedelta(seconds=longest_job)):
        services.submission_unconfirmed(submission=orphan, why="its creation ended meanwhile")
    # A deep queue is thousands of pending creations: their jobs' statuses are read in
    # batches (one round trip each), and only a job that is gone or ended is looked at.
    for first in range(0, len(waiting), RECOVERY_BATCH):
        batch = waiting[first : first + RECOVERY_BATCH]
        try:
            statuses = _job_statuses(batch)
        except RedisError:
            log.warning("Redis unavailable; recovery will retry the pending creations")
            break
        for creation, status in zip(batch, statuses, strict=True):
            if status in ACTIVE_JOB_STATUSES:
                continue
            counts["reenqueued"] += _send_again(creation, now=now)
    return counts


def _job_statuses(creations: list[Creation]) -> list[str | None]:
    pipe = queues.get_queue("images").connection.pipeline(transaction=False)
    for creation in creations:
        pipe.hget(Job.key_for(queues.job_id_for(creation.id)), "status")
    return [status.decode() if status else None for status in pipe.execute()]


def _send_again(creation: Creation, *, now: datetime) -> int:
    """Send the job of a pending creation again: its job is gone (Redis flushed, lost in a
    failover) or ended without it (a finished or failed job is replaced)."""
    job_id = queues.job_id_for(creation.id)
    connection = queues.queue_for_kind(creation.kind).connection
    try:
        try:
            job = Job.fetch(job_id, connection=connection)
        except NoSuchJobError:
            job = None
        if job is not None:
            if job.get_status() in ACTIVE_JOB_STATUSES:
                return 0
            job.delete()
        if sending.send_generation(creation):
            Creation.objects.filter(pk=creation.pk).update(requeued_at=now)
            return 1
    except RedisError:
        log.warning("Redis unavailable; recovery will retry creation %s", creation.id)
    return 0


def stuck_reason(creation: Creation, *, now: datetime, queue_moved: dict) -> str | None:
    """Why an in-flight creation past its deadline is stuck, as its error code; None when it
    is not (pending in a queue that keeps moving: waiting is not a failure).

    - queue_stalled: pending, and no generation job was started for PHOENIX_QUEUE_STALL
      (images and videos wait in one fair order on shared workers: while any starts, the
      line moves for both);
    - timed_out: its remote task has not ended within PHOENIX_REMOTE_TASK_TIMEOUT;
    - worker_lost: claimed, no remote task, and still processing after the job timeout
      (a job that runs past its timeout is stopped by RQ and fails itself as timed_out, so
      one still processing here lost its worker)."""
    if creation.status == Creation.Status.PENDING:
        if "any" not in queue_moved:
            since = now - timedelta(seconds=settings.PHOENIX_QUEUE_STALL)
            # One look per type, each along the (kind, processing_at) index.
            queue_moved["any"] = any(
                Creation.objects.filter(
                    kind=kind, processing_at__gte=since, processing_at__lte=now
                ).exists()
                for kind in Creation.Kind.values
            )
        return None if queue_moved["any"] else "queue_stalled"
    if creation.provider_task_id:
        return "timed_out"
    return "worker_lost"


def _result_on_its_way(creation: Creation, *, now: datetime, may_ask: bool) -> bool:
    """A remote task past its deadline whose result is being fetched, or that succeeded
    just now, is not failed (and its finished output not deleted) while it has grace."""
    return remote.result_on_its_way(creation, now=now, may_ask=may_ask)


def _cancel_remote_task(creation: Creation) -> None:
    # Recorded, tried once here (recovery is a job), and again until acknowledged.
    services.remote_cancel_request(creation=creation, task_id=creation.provider_task_id, send=False)
    services.remote_cancel_attempt(kind=creation.kind, task_id=creation.provider_task_id)
