"""The daily housekeeping runs on its own queue, PHOENIX_HOUSEKEEPING_BATCH creations per
job, each job queueing the next: a big expiry is many short jobs, and recovery, remote
checks and scheduled posts never wait behind it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rq import Worker
from rq.job import Job

from creations import queues, services
from creations.jobs import entrypoints, housekeeping
from creations.models import Creation
from tests.conftest import QUEUE_NAMES, ROOT
from tests.test_schedule import scheduled_jobs
from tokens.services import ledger_discrepancies

from .test_expiry import draft_aged, row

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_batches(settings):
    settings.PHOENIX_DRAFT_TTL_DAYS = 30
    settings.PHOENIX_TRASH_DAYS = 7
    settings.PHOENIX_HOUSEKEEPING_BATCH = 3


def procfile_workers() -> dict[str, list[str]]:
    """Each Procfile worker line: the queues it serves, in order."""
    served = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if " rqworker " in f" {command} ":
            words = command.split("rqworker", 1)[1].split()
            served[name] = [w for w in words if w in QUEUE_NAMES]
    return served


def run_burst(*queue_names: str) -> None:
    connection = queues.get_queue("default").connection
    worker = Worker([queues.get_queue(n) for n in queue_names], connection=connection)
    worker.work(burst=True)


def finished_results(queue_name: str) -> list[dict]:
    queue = queues.get_queue(queue_name)
    ids = queue.finished_job_registry.get_job_ids()
    found = Job.fetch_many(ids, connection=queue.connection)
    return sorted((j.return_value() for j in found), key=lambda r: (-r["trashed"], -r["purged"]))


def test_a_big_expiry_runs_as_several_short_jobs_that_together_do_it_all(alice, small_batches):
    expired = [draft_aged(alice, 31) for _ in range(7)]
    kept = draft_aged(alice, 29)
    long_trashed = [draft_aged(alice, 3) for _ in range(4)]
    for creation in long_trashed:
        services.creation_trash(creation=creation, now=timezone.now() - timedelta(days=8))
    daily = scheduled_jobs()["creations.jobs.entrypoints.expire_drafts_job"]

    daily.enqueue(queues.get_queue(daily.queue_name).connection)  # as rqcron does at 03:30
    run_burst("housekeeping")

    # 7 to move and 4 to purge, 3 at a time: expire 3, 3, then 1 and purge 3, then purge 1.
    assert finished_results("housekeeping") == [
        {"trashed": 3, "purged": 0},
        {"trashed": 3, "purged": 0},
        {"trashed": 1, "purged": 3},
        {"trashed": 0, "purged": 1},
    ]
    assert all(row(c)["trashed_at"] and not row(c)["purged_at"] for c in expired)
    assert row(kept)["trashed_at"] is None
    assert all(row(c)["purged_at"] for c in long_trashed)
    assert ledger_discrepancies() == []


def test_a_draft_left_alone_under_its_lock_does_not_hold_the_batches_up(
    alice, small_batches, monkeypatch
):
    """Batches go on from the last id they looked at: drafts passed over (published
    meanwhile, say) are not read again and again."""
    expired = sorted((draft_aged(alice, 31) for _ in range(5)), key=lambda c: c.pk)
    passed_over = {expired[0].pk, expired[1].pk, expired[2].pk}
    real_trash = housekeeping.creation_trash

    def trash_unless_passed_over(*, creation, now):
        if creation.pk in passed_over:
            raise services.ActionRefused("not_trashable", "left alone")
        return real_trash(creation=creation, now=now)

    monkeypatch.setattr(housekeeping, "creation_trash", trash_unless_passed_over)

    assert housekeeping.drafts_expire() == 2

    assert [row(c)["trashed_at"] is not None for c in expired] == [False] * 3 + [True] * 2


def test_recovery_and_scheduled_posts_do_not_wait_behind_housekeeping(
    alice, small_batches, make_creation
):
    for _ in range(7):
        draft_aged(alice, 31)
    queues.get_queue("housekeeping").enqueue(entrypoints.expire_drafts_job)
    recovery = queues.get_queue("default").enqueue(entrypoints.recover_creations)
    due = make_creation(owner=alice, status="draft")
    services.creation_publish(creation=due, publish_at=timezone.now() + timedelta(hours=1))
    Creation.objects.filter(pk=due.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    post = queues.get_queue("default").enqueue(entrypoints.publish_scheduled_creation, str(due.pk))

    # The workers as the Procfile declares them: none serves housekeeping and anything else.
    workers = procfile_workers()
    assert [name for name, served in workers.items() if "housekeeping" in served] == [
        "worker-housekeeping"
    ]
    assert workers["worker-housekeeping"] == ["housekeeping"]
    run_burst(*workers["worker-default"])

    assert recovery.get_status() == "finished" and post.get_status() == "finished"
    assert Creation.objects.get(pk=due.pk).status == "published"
    assert queues.get_queue("housekeeping").count == 1  # still waiting for its own worker
