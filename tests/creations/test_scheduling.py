"""Scheduled publishing: a draft published at its time, exactly once, by RQ's scheduler (a
real `rqworker default --with-scheduler`), or by the recovery pass when no scheduler ran;
never when it was unscheduled, trashed or taken down meanwhile."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rq.job import Job, JobStatus

from creations import queues, services
from creations.api import refusal_status
from creations.jobs import entrypoints, recovery
from creations.models import Creation
from creations.services import ActionRefused, parse_publish_at
from tests.conftest import (
    ROOT,
    WORKER_CLASS,
    run_worker_burst,
    stop_worker,
    wait_for,
    worker_environment,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# --- "Publish at" as the browser sends it ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-01T14:00+01:00", datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("2026-12-01T14:00:00-05:00", datetime(2026, 12, 1, 19, 0, tzinfo=UTC)),
        ("2026-12-01T14:00Z", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_publish_at_is_read_with_its_offset_and_kept_in_utc(value, expected):
    moment = parse_publish_at(value, now=NOW)
    assert moment == expected
    if moment is not None:
        assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30T11:59+00:00",  # in the past
        "2026-11-30T12:00+00:00",  # now is not ahead
        "2027-12-01T12:00+00:00",  # more than a year ahead
        "2026-12-01T14:00",  # no offset: whose 14:00?
        "tomorrow at two",
        "2026-13-01T14:00+00:00",
        12345,
        ["2026-12-01T14:00+00:00"],
    ],
)
def test_a_publish_at_in_the_past_beyond_a_year_or_unreadable_is_a_400(value):
    with pytest.raises(ActionRefused) as refusal:
        parse_publish_at(value, now=NOW)
    assert (refusal.value.code, refusal_status(refusal.value)) == ("invalid_publish_at", 400)


# --- Scheduling, and what the scheduled job does ----------------------------------------

# Transactional: the publish job is sent to RQ after COMMIT.
transactional = pytest.mark.django_db(transaction=True)


def scheduled_jobs() -> dict[str, datetime]:
    registry = queues.get_queue("default").scheduled_job_registry
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def publish_job(creation: Creation, moment: datetime) -> Job:
    return Job.fetch(
        f"publish-{creation.id}-{int(moment.timestamp())}",
        connection=queues.get_queue("default").connection,
    )


def run_scheduled_jobs_now() -> None:
    """What RQ's scheduler does once their time has come: move them to their queue; then a
    worker runs them."""
    queue = queues.get_queue("default")
    registry = queue.scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=queue.connection))
    run_worker_burst()


def make_due(creation: Creation) -> None:
    """Its time has passed (as if we had waited for it)."""
    Creation.objects.filter(pk=creation.pk).update(publish_at=timezone.now() - timedelta(seconds=1))


def status_of(creation: Creation) -> str:
    return Creation.objects.values_list("status", flat=True).get(pk=creation.pk)


@transactional
def test_scheduling_a_draft_asks_rqs_scheduler_for_one_job_at_its_time(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    moment = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)

    services.creation_publish(creation=draft, caption="Tuesday", publish_at=moment)

    draft.refresh_from_db()
    assert (draft.status, draft.publish_at, draft.caption, draft.published_at) == (
        "scheduled",
        moment,
        "Tuesday",
        None,
    )
    assert scheduled_jobs() == {f"publish-{draft.id}-{int(moment.timestamp())}": moment}
    assert publish_job(draft, moment).origin == "default"
    assert not Creation.objects.public().filter(pk=draft.pk).exists()


@transactional
def test_a_time_with_a_fraction_of_a_second_is_scheduled_no_earlier_than_it(alice, make_creation):
    """RQ's scheduler keeps whole seconds: a job for 14:00:03.7 must not run at 14:00:03,
    find the post not yet due and leave it for the recovery pass."""
    draft = make_creation(owner=alice, status="draft")
    moment = (timezone.now() + timedelta(hours=3)).replace(microsecond=700_000)

    services.creation_publish(creation=draft, publish_at=moment)

    (runs_at,) = scheduled_jobs().values()
    assert runs_at >= moment
    assert runs_at - moment < timedelta(seconds=1)


@transactional
def test_when_redis_refuses_the_schedule_the_post_is_still_scheduled_for_recovery(
    alice, make_creation, settings
):
    draft = make_creation(owner=alice, status="draft")
    settings.RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:1/0"} for name in settings.RQ_QUEUES}
    queues.reset()

    services.creation_publish(
        creation=draft, publish_at=timezone.now() + timedelta(seconds=1), caption="hi"
    )

    assert status_of(draft) == "scheduled"
    make_due(draft)
    assert recovery.creations_recover()["published"] == 1
    assert status_of(draft) == "published"


@transactional
def test_without_a_scheduler_recovery_publishes_once_its_time_has_passed(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    moment = timezone.now() + timedelta(minutes=10)
    services.creation_publish(creation=draft, caption="later", publish_at=moment)

    assert recovery.creations_recover(now=moment - timedelta(seconds=1))["published"] == 0
    assert status_of(draft) == "scheduled"
    assert recovery.creations_recover(now=moment)["published"] == 1
    assert recovery.creations_recover(now=moment + timedelta(minutes=1))["published"] == 0

    draft.refresh_from_db()
    assert (draft.status, draft.published_at, draft.caption) == ("published", moment, "later")
    assert Creation.objects.public().filter(pk=draft.pk).exists()
    # The scheduled job, when it runs after all, does nothing.
    assert entrypoints.publish_scheduled_creation(str(draft.id)) is False
    draft.refresh_from_db()
    assert draft.published_at == moment


def unschedule(creation: Creation) -> None:
    services.creation_unschedule(creation=creation)


def trash(creation: Creation) -> None:
    services.creation_trash(creation=creation)


def take_down(creation: Creation) -> None:
    # Staff stop it before it goes public; the job of its time must not bring it back.
    services.creation_take_down(creation=creation, staff=None, reason="Reported and removed.")


@transactional
@pytest.mark.parametrize(
    ("change", "status"),
    [(unschedule, "draft"), (trash, "scheduled"), (take_down, "taken_down")],
)
def test_unscheduled_trashed_or_taken_down_before_its_time_it_is_not_published(
    alice, make_creation, change, status
):
    draft = make_creation(owner=alice, status="draft")
    services.creation_publish(
        creation=draft, caption="soon", publish_at=timezone.now() + timedelta(hours=1)
    )
    change(Creation.objects.get(pk=draft.pk))
    before = Creation.objects.filter(pk=draft.pk).values().get()
    if before["publish_at"] is not None:
        make_due(draft)  # its time has come: only its state may keep it unpublished
        before = Creation.objects.filter(pk=draft.pk).values().get()

    run_scheduled_jobs_now()
    recovered = recovery.creations_recover(now=timezone.now() + timedelta(hours=2))

    (job_id,) = queues.get_queue("default").finished_job_registry.get_job_ids()
    job = Job.fetch(job_id, connection=queues.get_queue("default").connection)
    assert (job.get_status(), job.return_value()) == (JobStatus.FINISHED, False)
    assert recovered["published"] == 0
    assert Creation.objects.filter(pk=draft.pk).values().get() == before
    assert before["status"] == status
    assert not Creation.objects.public().filter(pk=draft.pk).exists()


@transactional
def test_rescheduling_keeps_only_the_latest_time(alice, make_creation):
    draft = make_creation(owner=alice, status="draft")
    first = (timezone.now() + timedelta(minutes=10)).replace(microsecond=0)
    second = first + timedelta(minutes=20)
    services.creation_publish(creation=draft, publish_at=first)
    services.creation_unschedule(creation=Creation.objects.get(pk=draft.pk))
    services.creation_publish(creation=Creation.objects.get(pk=draft.pk), publish_at=second)

    assert set(scheduled_jobs().values()) == {first, second}  # the old job is still there
    assert recovery.creations_recover(now=first + timedelta(minutes=1))["published"] == 0
    assert services.creation_publish_due(creation_id=draft.id, now=first) is False
    assert status_of(draft) == "scheduled"
    assert services.creation_publish_due(creation_id=draft.id, now=second) is True
    assert services.creation_publish_due(creation_id=draft.id, now=second) is False
    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == ("published", second)


# --- With a real scheduler --------------------------------------------------------------


def scheduler_worker() -> subprocess.Popen:
    """`manage.py rqworker default --with-scheduler`: the worker of the `default` queue, where
    publish jobs go, with RQ's scheduler."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default", "--with-scheduler", *WORKER_CLASS],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def scheduler_lock_held() -> bool:
    return bool(queues.get_queue("default").connection.exists("rq:scheduler-lock:default"))


def soon(seconds: float) -> datetime:
    # A fraction of a second on purpose: RQ's scheduler keeps whole seconds.
    return timezone.now() + timedelta(seconds=seconds)


@transactional
@pytest.mark.slow
def test_a_scheduled_post_is_published_once_at_its_time_by_rqs_scheduler(
    alice, make_creation, figure
):
    plain = make_creation(owner=alice, status="draft", caption="")
    later = make_creation(owner=alice, status="draft")
    earlier = make_creation(owner=alice, status="draft")
    worker = scheduler_worker()
    try:
        wait_for(scheduler_lock_held, timeout=30, what="the scheduler to start")
        at = soon(2.5)
        services.creation_publish(creation=plain, caption="on time", publish_at=at)
        # Rescheduled later, and rescheduled earlier: only the latest time counts.
        services.creation_publish(creation=later, publish_at=at)
        services.creation_unschedule(creation=later)
        services.creation_publish(creation=later, publish_at=at + timedelta(seconds=1.5))
        services.creation_publish(creation=earlier, publish_at=at + timedelta(seconds=1.5))
        services.creation_unschedule(creation=earlier)
        services.creation_publish(creation=earlier, publish_at=at)

        wait_for(
            lambda: Creation.objects.filter(status="published").count() == 3,
            timeout=20,
            what="the three posts to be published",
        )
        # Every job has run, the stale ones too (they find nothing to do).
        # Job ids only: the live scheduler may move a job between listing it and reading
        # its time (a NoSuchJobError seen under load).
        registry = queues.get_queue("default").scheduled_job_registry
        wait_for(lambda: not registry.get_job_ids(), timeout=10, what="the stale jobs to run")
        registry = queues.get_queue("default").finished_job_registry
        wait_for(lambda: len(registry) == 5, timeout=10, what="5 finished jobs")
    finally:
        stop_worker(worker)

    results = sorted(
        Job.fetch(job_id, connection=registry.connection).return_value()
        for job_id in registry.get_job_ids()
    )
    assert results == [False, False, True, True, True]
    delays = []
    for creation in (plain, later, earlier):
        creation.refresh_from_db()
        assert creation.status == "published"
        assert creation.published_at >= creation.publish_at
        delays.append((creation.published_at - creation.publish_at).total_seconds())
    assert max(delays) < 5
    assert plain.caption == "on time"
    assert later.publish_at == at + timedelta(seconds=1.5)
    assert earlier.publish_at == at
    assert recovery.creations_recover(now=timezone.now() + timedelta(hours=1))["published"] == 0
    figure(
        "3/3 scheduled posts published once by RQ's scheduler, "
        f"{min(delays):.2f}-{max(delays):.2f} s after their time; "
        "2 stale jobs of rescheduled posts did nothing"
    )


@transactional
@pytest.mark.slow
def test_with_the_worker_killed_across_its_time_it_is_published_once_after_another_starts(
    alice, make_creation, figure
):
    draft = make_creation(owner=alice, status="draft")
    first = scheduler_worker()
    try:
        wait_for(scheduler_lock_held, timeout=30, what="the scheduler to start")
        at = soon(2)
        services.creation_publish(creation=draft, caption="through a crash", publish_at=at)
    finally:
        stop_worker(first)  # SIGKILL: worker, scheduler and all, before the time
    wait_for(lambda: timezone.now() > at + timedelta(seconds=1), timeout=10, what="the time")
    assert status_of(draft) == "scheduled"

    second = scheduler_worker()
    try:
        # The dead scheduler's lock outlives it (61 s), so the new worker's scheduler waits;
        # meanwhile the recovery pass, which the cron runs every minute on this queue,
        # publishes it.
        recovery = queues.get_queue("default").enqueue(entrypoints.recover_creations)
        wait_for(
            lambda: recovery.get_status(refresh=True) == JobStatus.FINISHED,
            timeout=30,
            what="the recovery job",
        )
    finally:
        stop_worker(second)
    draft.refresh_from_db()
    published_at = draft.published_at
    # When the old job runs at last (the lock expired), it does nothing.
    run_scheduled_jobs_now()

    draft.refresh_from_db()
    assert (draft.status, draft.published_at) == ("published", published_at)
    assert published_at >= at
    registry = queues.get_queue("default").finished_job_registry
    finished = [
        Job.fetch(job_id, connection=registry.connection) for job_id in registry.get_job_ids()
    ]
    results = {job.func_name: job.return_value() for job in finished}
    assert results == {
        "creations.jobs.entrypoints.recover_creations": {
            "reenqueued": 0,
            "failed": 0,
            "published": 1,
        },
        "creations.jobs.entrypoints.publish_scheduled_creation": False,
    }
    figure(
        "worker SIGKILLed before the time: published once by the recovery job "
        f"{(published_at - at).total_seconds():.1f} s after its time; the late scheduled job "
        "did nothing"
    )
