"""Remote tasks (Runway) after their submit: one periodic check looks at every task in
flight in a batch and reports progress; a task that succeeded is fetched, stored and
completed by a short job; one that failed, or that the provider no longer knows, is failed
and refunded. Everything carries on from the task id in the database, so a worker lost at
any step costs nothing but time.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import LockError, RedisError

from creations import queues, services, versions
from creations.models import Creation
from creations.providers import (
    ProviderError,
    RemoteTask,
    RemoteTaskProvider,
    TransientProviderError,
    remote_provider,
)

from . import sending
from .generation import (
    NoLongerWanted,
    StorageFailed,
    _remote_source_image,
    _report_progress,
    _seed,
    checked,
    complete,
    fail,
    fail_for,
    store_media,
)

log = logging.getLogger(__name__)

# Provider answers asked for at once by the periodic check (HTTP only; the writes follow
# in the job's own thread).
CHECK_THREADS = 8
# Succeeded results fetched by one job, each in a thread of its own.
FETCH_BATCH = 4
# The periodic check's job timeout (its asking stops after PHOENIX_REMOTE_CHECK_BUDGET).
CHECK_JOB_TIMEOUT = 120
CHECK_LOCK = "phoenix:remote-check"
# The last task the previous check asked about: the next one starts after it, so that a
# check cut short by its time budget does not leave the same tasks unasked every time.
CHECK_CURSOR = "phoenix:remote-check:cursor"
# When the last periodic check started asking (Redis server time, in seconds): the next
# one does not ask sooner than PHOENIX_REMOTE_CHECK_INTERVAL after it.
CHECK_LAST = "phoenix:remote-check:last"
# A check due within this much of its time waits for it rather than skip a whole interval
# (rqcron's ticks and the worker's pick-up wobble by milliseconds).
CHECK_PACE_SLACK = 1.0
# After a fetch failed for a passing reason (download, storage), the next check sends it
# again after this pause rather than at once.
FETCH_RETRY_PAUSE = 30
# A task that succeeded is still fetched for this many fetch timeouts past its deadline.
FETCH_GRACE_TIMEOUTS = 3


def remote_tasks_check(*, paced: bool = False) -> dict[str, int]:
    """One look at every remote task in flight (the provider's answers fetched in a few
    threads, each written here as it arrives): progress to the card, a fetch job for each
    task that succeeded, fail and refund for each that failed or that the provider no
    longer knows. A task that could not be asked about is asked again next time. Returns
    counts of the answers.

    One check at a time (a Redis lock): the checks rqcron queues while one runs return at
    once instead of piling up on `light`. A check asks for PHOENIX_REMOTE_CHECK_BUDGET
    seconds at most; the next one starts with the tasks it did not reach.

    `paced` (the periodic job): the provider asks for no more than one look per task per
    PHOENIX_REMOTE_CHECK_INTERVAL. Checks that queued up behind something (a busy or
    restarted worker) would otherwise run back to back: one that comes too soon after the
    last returns at once, the next tick asks."""
    counts = dict.fromkeys(RemoteTask.STATES, 0)
    provider = remote_provider(Creation.Kind.VIDEO)
    if provider is None:
        return counts
    redis = queues.get_queue("default").connection
    lock = redis.lock(CHECK_LOCK, timeout=check_lock_ttl(), blocking=False)
    if not lock.acquire(blocking=False):
        log.info("A remote task check is already running; this one stops")
        return counts
    try:
        if paced and not check_is_due(redis):
            log.info("The last remote task check was less than an interval ago; this one stops")
            return counts
        check_in_flight(provider, redis, counts)
    finally:
        try:
            lock.release()
        except LockError:
            pass  # expired meanwhile: another check may have taken it
    return counts


def check_is_due(redis) -> bool:
    """True when an interval has passed since the last paced check started (after waiting
    out the last CHECK_PACE_SLACK of it), and records this one's start. Called under the
    check's lock; the time is Redis's own, the same for every host."""
    interval = settings.PHOENIX_REMOTE_CHECK_INTERVAL
    last = redis.get(CHECK_LAST)
    if last is not None:
        seconds, micros = redis.time()
        wait = float(last) + interval - (seconds + micros / 1e6)
        if wait > min(CHECK_PACE_SLACK, interval / 4):
            return False
        if wait > 0:
            time.sleep(wait)
    seconds, micros = redis.time()
    redis.set(CHECK_LAST, f"{seconds + micros / 1e6:.6f}", ex=max(60, 10 * interval))
    return True


def check_lock_ttl() -> int:
    """How long a check's lock lives: its time budget, the answers still on their way
    then, and the writes. A check whose worker died holds the next ones back no longer."""
    seconds = settings.PHOENIX_REMOTE_CHECK_BUDGET + 2 * settings.PHOENIX_REMOTE_CHECK_HTTP_TIMEOUT
    return int(min(CHECK_JOB_TIMEOUT, seconds + 30))


def check_in_flight(provider: RemoteTaskProvider, redis, counts: dict[str, int]) -> None:
    in_flight = list(
        Creation.objects.filter(kind=Creation.Kind.VIDEO, status=Creation.Status.PROCESSING)
        .exclude(provider_task_id="")
        .select_related("owner")
        .order_by("id")
    )
    if not in_flight:
        return
    cursor = (redis.get(CHECK_CURSOR) or b"").decode()
    after = next((i for i, c in enumerate(in_flight) if str(c.id) > cursor), 0)
    in_flight = in_flight[after:] + in_flight[:after]
    stop_asking_at = time.monotonic() + settings.PHOENIX_REMOTE_CHECK_BUDGET
    asked: set = set()

    def look(creation: Creation) -> RemoteTask | None:
        if time.monotonic() > stop_asking_at:
            return None
        asked.add(creation.id)
        try:
            return provider.check_task(creation.provider_task_id)
        except Exception:
            log.exception("Checking the remote task of %s failed", creation.id)
            return RemoteTask(RemoteTask.UNKNOWN)

    succeeded: list[tuple[Creation, RemoteTask]] = []
    pool = ThreadPoolExecutor(max_workers=CHECK_THREADS)
    try:
        looks = {pool.submit(look, creation): creation for creation in in_flight}
        for done in as_completed(looks):
            task = done.result()
            if task is None:
                continue
            counts[task.state] += 1
            record_answer(looks[done], task, provider, succeeded)
            if len(succeeded) >= FETCH_BATCH:
                send_fetches(succeeded, now=timezone.now())
                succeeded = []
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        close = getattr(provider, "close", None)
        if close is not None:
            close()
    send_fetches(succeeded, now=timezone.now())
    last_asked = [c.id for c in in_flight if c.id in asked]
    if last_asked:
        redis.set(CHECK_CURSOR, str(last_asked[-1]), ex=24 * 3600)


def record_answer(
    creation: Creation,
    task: RemoteTask,
    provider: RemoteTaskProvider,
    succeeded: list[tuple[Creation, RemoteTask]],
) -> None:
    """Act on the provider's answer about a creation's task. Failing is guarded by the task
    id that was asked about: a task replaced meanwhile is not failed for the old one."""
    if task.state == RemoteTask.RUNNING:
        if task.percent > creation.progress:
            services.creation_report_progress(creation=creation, percent=task.percent)
    elif task.state == RemoteTask.SUCCEEDED:
        succeeded.append((creation, task))
    elif task.state == RemoteTask.FAILED:
        if not resubmitted(creation, task, provider):
            fail_for(
                creation,
                task.error or ProviderError("remote task failed"),
                task_id=creation.provider_task_id,
            )
    elif task.state == RemoteTask.GONE:
        log.error("The provider no longer knows the task of %s", creation.id)
        fail(creation, "task_lost", task_id=creation.provider_task_id)


def remote_cancels_retry(*, now=None) -> dict[str, int]:
    """Provider cancels not yet acknowledged whose next try is due, tried once more each
    (services.remote_cancel_attempt records the answer and the next try)."""
    now = now or timezone.now()
    counts = {"acknowledged": 0, "failed": 0}
    for kind, task_id in services.remote_cancels_due(now=now):
        if services.remote_cancel_attempt(kind=kind, task_id=task_id, now=now):
            counts["acknowledged"] += 1
        else:
            counts["failed"] += 1
    return counts


def orphan_settle(creation: Creation, *, judged_at) -> str | None:
    """A creation claimed past its deadline with no task id but a submission still in
    `intent`: its worker died (or lost the answer) between sending the task and recording
    its id. Where the provider takes an idempotency key, the same submit again answers the
    task it started (or starts it, once): adopted, it goes on being checked ("adopted").
    Otherwise the task cannot be found: the attempts are recorded as possibly submitted
    (for staff) and the creation failed and refunded ("failed"). None: no orphan."""
    intents = services.orphaned_intents(creation=creation)
    if not intents:
        return None
    provider = remote_provider(creation.kind)
    if provider is not None and settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER:
        latest = intents[-1]
        try:
            task_id = provider.submit_video(
                prompt=creation.prompt,
                orientation=creation.orientation,
                seed=_seed(creation),
                idempotency_key=str(latest.key),
                **_remote_source_image(creation),
            )
        except ProviderError:
            log.warning("Adopting the orphaned task of %s failed", creation.id, exc_info=True)
        else:
            services.submission_record_task(creation=creation, submission=latest, task_id=task_id)
            intents = intents[:-1]
            log.warning("Adopted the orphaned task %s of %s", task_id, creation.id)
            for older in intents:
                services.submission_unconfirmed(submission=older, why="superseded, no answer")
            return "adopted"
    for intent in intents:
        services.submission_unconfirmed(submission=intent, why="worker lost before the answer")
    if services.creation_fail_past_deadline(
        creation=creation, code="submission_unconfirmed", judged_at=judged_at
    ):
        return "failed"
    return "unchanged"


def fetch_resend_after() -> timedelta:
    """A fetch job not finished this long after it was sent (or started) lost its worker:
    twice its job timeout, so that one merely waiting in the queue is not sent twice."""
    return timedelta(seconds=2 * settings.PHOENIX_REMOTE_FETCH_TIMEOUT)


def fetch_later(creation: Creation) -> None:
    """The fetch failed for a passing reason: the next check sends it again after a pause."""
    pause = timedelta(seconds=FETCH_RETRY_PAUSE)
    Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        fetch_sent_at=timezone.now() - fetch_resend_after() + pause
    )


def result_on_its_way(creation: Creation, *, now, may_ask: bool = True) -> bool:
    """Asked by recovery before it fails a remote task past its deadline: True when the
    result is being fetched, or the provider says the task succeeded (its fetch is sent
    now). A result is given FETCH_GRACE_TIMEOUTS fetch timeouts past the deadline; within
    them, a task recovery has no time left to ask about is left for its next pass."""
    grace = timedelta(seconds=FETCH_GRACE_TIMEOUTS * settings.PHOENIX_REMOTE_FETCH_TIMEOUT)
    if not creation.provider_task_id or now > creation.deadline + grace:
        return False
    if creation.fetch_sent_at is not None and creation.fetch_sent_at > now - fetch_resend_after():
        return True
    if not may_ask:
        return True
    provider = remote_provider(creation.kind)
    if provider is None:
        return False
    try:
        task = provider.check_task(creation.provider_task_id)
    except Exception:
        log.exception("Checking the remote task of %s failed", creation.id)
        return False
    finally:
        close = getattr(provider, "close", None)
        if close is not None:
            close()
    if task.state != RemoteTask.SUCCEEDED:
        return False
    log.warning("The remote task of %s succeeded at its deadline; fetching it", creation.id)
    send_fetches([(creation, task)], now=timezone.now())
    return True


def resubmitted(creation: Creation, task: RemoteTask, provider: RemoteTaskProvider) -> bool:
    """A task that failed on the provider's side for a passing reason (its internal error)
    is submitted again, up to PHOENIX_TRANSIENT_RETRIES times (counted in `attempts`, as
    the job counts its tries). True when the creation goes on with a new task."""
    if not isinstance(task.error, TransientProviderError):
        return False
    if creation.attempts > settings.PHOENIX_TRANSIENT_RETRIES:
        return False
    log.warning("The remote task of %s failed (%s); submitting again", creation.id, task.error)
    # An earlier resubmission whose check was killed before it recorded the answer: a task
    # may run (and bill) under an id we do not know. Its key finds it again where the
    # provider takes one; without a key it is never sent again (that could start another
    # task): it is shown to staff and the creation failed and refunded.
    orphans = services.orphaned_intents(creation=creation)
    if orphans and not settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER:
        for orphan in orphans:
            services.submission_unconfirmed(submission=orphan, why="resubmission lost its answer")
        return False
    for older in orphans[:-1]:
        services.submission_unconfirmed(submission=older, why="superseded, no answer")
    submission = orphans[-1] if orphans else services.submission_intent(creation=creation)
    if submission is None:
        return True  # canceled meanwhile
    try:
        task_id = provider.submit_video(
            prompt=creation.prompt,
            orientation=creation.orientation,
            seed=_seed(creation),
            idempotency_key=str(submission.key),
            **_remote_source_image(creation),
        )
    except ProviderError as error:
        if getattr(error, "maybe_sent", False):
            services.submission_unconfirmed(submission=submission, why=str(error))
            return False
        if orphans and isinstance(error, TransientProviderError):
            return True  # the lost answer's task is looked for by its key next time
        services.submission_refused(submission=submission)
        # Transient: the next check sees the failed task again and tries again.
        return isinstance(error, TransientProviderError)
    with transaction.atomic():
        services.submission_record_task(
            creation=creation, submission=submission, task_id=task_id, replacing=True
        )
        replaced = Creation.objects.filter(
            pk=creation.pk,
            status=Creation.Status.PROCESSING,
            provider_task_id=creation.provider_task_id,
        ).update(provider_task_id=task_id, attempts=F("attempts") + 1, progress=2)
        if not replaced:
            services.remote_cancel_request(creation=creation, task_id=task_id)  # canceled
    if replaced:
        creation.provider_task_id = task_id
        versions.creation_changed(creation, listing=False)  # its progress starts again
    return True


def send_fetches(succeeded: list[tuple[Creation, RemoteTask]], *, now) -> int:
    """Send the short jobs that fetch succeeded tasks' results (FETCH_BATCH to a job, run in
    as many threads), except those sent lately (they may still be queued or running). A
    fetch sent (or started) before a lost worker goes stale after fetch_resend_after() and
    is sent again. Returns how many were sent."""
    stale = now - fetch_resend_after()
    due = Creation.objects.filter(status=Creation.Status.PROCESSING).filter(
        Q(fetch_sent_at__isnull=True) | Q(fetch_sent_at__lt=stale)
    )
    claimed = [(c, task) for c, task in succeeded if due.filter(pk=c.pk).update(fetch_sent_at=now)]
    for start in range(0, len(claimed), FETCH_BATCH):
        batch = claimed[start : start + FETCH_BATCH]
        try:
            sending.send_fetch([(str(c.id), task.output_url) for c, task in batch])
        except RedisError:
            log.warning("Could not send a fetch of %d results; the next check will", len(batch))
            Creation.objects.filter(pk__in=[c.pk for c, _ in batch]).update(fetch_sent_at=None)
            return start
    return len(claimed)


def remote_results_fetch(*, items: list[tuple[str, str]]) -> dict[str, str]:
    """Fetch several results at once, each in its own thread (downloads wait on the network,
    and each decode is an ffmpeg process of its own): {creation id: what happened}."""

    def fetch_one(item: tuple[str, str]) -> str:
        creation_id, output_url = item
        try:
            return remote_result_fetch(creation_id=creation_id, output_url=output_url)
        except Exception:
            # Left processing with its fetch sent: sent again when that goes stale.
            log.exception("Fetching the result of %s failed", creation_id)
            return "error"
        finally:
            connection.close()  # this thread's own

    with ThreadPoolExecutor(max_workers=max(1, min(len(items), FETCH_BATCH))) as pool:
        return dict(zip([i for i, _ in items], pool.map(fetch_one, items), strict=True))


def remote_result_fetch(*, creation_id, output_url: str) -> str:
    """Download, store and complete a succeeded remote task's result. A completion after a
    cancel is refused by the guarded update and its files deleted."""
    creation = (
        Creation.objects.filter(pk=creation_id, status=Creation.Status.PROCESSING)
        .exclude(provider_task_id="")
        .select_related("owner")
        .first()
    )
    provider = remote_provider(creation.kind) if creation is not None else None
    if creation is None or provider is None:
        return "not_wanted"
    # Started now: the fetch is not sent again before it has had its whole job timeout.
    Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        fetch_sent_at=timezone.now()
    )
    try:
        media = checked(
            provider.fetch_output(RemoteTask(RemoteTask.SUCCEEDED, output_url=output_url))
        )
        _report_progress(creation, 95)
        media_name, poster_name = store_media(media)
    except NoLongerWanted:
        return "discarded"
    except (TransientProviderError, StorageFailed):
        # The output stays at the provider for a day, and the task is paid for: the fetch
        # is sent again (the deadline and its grace bound the tries).
        log.warning(
            "Fetching the result of %s failed; a later check tries again",
            creation.id,
            exc_info=True,
        )
        fetch_later(creation)
        return "later"
    except Exception as error:
        return fail_for(creation, error)
    return complete(creation, media, media_name, poster_name)
