"""Every job creations sends to RQ is sent here, and nowhere else.

Services call these functions (after COMMIT); the jobs themselves are named by their
dotted path, so that this module — below the services — never imports the job bodies,
which call the services."""

import logging
from datetime import timedelta

from django.conf import settings
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError

from creations import queues
from creations.models import Creation

log = logging.getLogger(__name__)

ENTRYPOINTS = "creations.jobs.entrypoints"
RUN_GENERATION = f"{ENTRYPOINTS}.run_generation"
FETCH_REMOTE_RESULTS = f"{ENTRYPOINTS}.fetch_remote_results"
PUBLISH_SCHEDULED_CREATION = f"{ENTRYPOINTS}.publish_scheduled_creation"
CANCEL_PROVIDER_TASK = f"{ENTRYPOINTS}.cancel_provider_task"
EXPIRE_DRAFTS = f"{ENTRYPOINTS}.expire_drafts_job"

# Finished and failed jobs stay readable this long (the dashboard, the tests).
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600


def send_generation(creation: Creation) -> bool:
    """Put the creation's job in Redis under its unique id, at its creator's fair place in
    the queue (round-robin by creator and across types). False if a live one was there;
    whatever else stops it (Redis down, a script refused) is raised."""
    queue = queues.queue_for_kind(creation.kind)
    try:
        queue.enqueue(
            RUN_GENERATION,
            str(creation.id),
            job_id=queues.job_id_for(creation.id),
            job_timeout=settings.PHOENIX_JOB_TIMEOUT[creation.kind],
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"generate {creation.kind} {creation.id}",
            # The fair queue's round-robin is by creator (creations/fair_queue.py).
            meta={"owner": str(creation.owner_id)},
            unique=True,
        )
    except DuplicateJobError:
        return False  # A live job already exists: one creation never has two.
    return True


def send_provider_cancel(creation: Creation, task_id: str) -> None:
    """The provider's cancel is an HTTP call that may take its full timeout: a short job on
    `light` makes it. Raises RedisError when Redis refuses it."""
    queues.get_queue("light").enqueue(
        CANCEL_PROVIDER_TASK,
        creation.kind,
        task_id,
        job_id=f"cancel-task-{task_id}",
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"cancel the provider task of {creation.id}",
    )


def send_publication(creation: Creation) -> None:
    """Ask RQ's scheduler to publish it at its time. If Redis refuses, the recovery pass
    publishes it when its time has passed (within a minute)."""
    moment = creation.publish_at
    # RQ's scheduler keeps whole seconds (it drops the fraction): asked for 14:00:03.7 it
    # would run the job at 14:00:03, which would find the post not yet due. The next whole
    # second instead.
    runs_at = moment.replace(microsecond=0)
    if runs_at < moment:
        runs_at += timedelta(seconds=1)
    try:
        queues.get_queue("default").enqueue_at(
            runs_at,
            PUBLISH_SCHEDULED_CREATION,
            str(creation.id),
            job_id=f"publish-{creation.id}-{int(moment.timestamp())}",
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"publish {creation.id} at {moment.isoformat()}",
        )
    except RedisError:
        log.warning("Could not schedule %s; recovery will publish it", creation.id)


def send_fetch(items: list[tuple[str, str]]) -> None:
    """A short job fetching succeeded remote results ((creation id, output URL) pairs). On
    `light` (no generation ahead of it), at the front: it finishes work already paid for,
    and is short. Raises RedisError when Redis refuses it."""
    queues.get_queue("light").enqueue(
        FETCH_REMOTE_RESULTS,
        items,
        job_timeout=settings.PHOENIX_REMOTE_FETCH_TIMEOUT,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"fetch {len(items)} remote result(s)",
        at_front=True,
    )


def send_housekeeping_batch(moment: str, stage: str, after: str, *, timeout: int) -> None:
    """The next batch of the daily housekeeping, judged by the same moment. Raises
    RedisError when Redis refuses it."""
    queues.get_queue("housekeeping").enqueue(
        EXPIRE_DRAFTS,
        moment,
        stage,
        after,
        job_timeout=timeout,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        description=f"housekeeping: {stage} after {after}",
    )
