"""Real forking RQ workers killed with SIGKILL in the middle of a job."""

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from rq.registry import FailedJobRegistry, StartedJobRegistry

from creations import queues
from creations.jobs import recovery
from tests.conftest import run_worker_burst

from .conftest import (
    balance,
    past_deadline,
    refunds,
    scripted_worker,
    status_of,
    stop_worker,
    submit,
    wait_for,
    work_horse_pids,
)
from .providers import SCRIPTED

pytestmark = pytest.mark.django_db(transaction=True)

KILLS = 5


def test_whole_worker_killed_mid_job_5_times_each_ends_failed_with_one_refund(creator, figure):
    start_balance = balance(creator)
    final = double_refunds = 0
    for _ in range(KILLS):
        creation = submit(creator, prompt="sleep 60")
        worker = scripted_worker()
        try:
            wait_for(lambda: status_of(creation) == "processing", what="the job to claim")  # noqa: B023
            horses = work_horse_pids(worker.pid)
            assert len(horses) == 1, horses
        finally:
            stop_worker(worker)  # SIGKILL to the worker and its work horse
        wait_for(lambda: not process_alive(horses[0]), what="the horse to be gone")  # noqa: B023

        # Not overdue yet: a recovery pass leaves it alone.
        assert recovery.creations_recover() == {"reenqueued": 0, "failed": 0, "published": 0}
        later = past_deadline(creation)
        assert recovery.creations_recover(now=later) == {
            "reenqueued": 0,
            "failed": 1,
            "published": 0,
        }
        assert recovery.creations_recover(now=later) == {
            "reenqueued": 0,
            "failed": 0,
            "published": 0,
        }

        creation.refresh_from_db()
        final += creation.status == "failed" and creation.error_code == "worker_lost"
        double_refunds += refunds(creation) > 1
        assert refunds(creation) == 1
    assert balance(creator) == start_balance
    assert final == KILLS
    figure(f"{final}/{KILLS} whole-worker kills ended final, {double_refunds} double refunds")


def test_only_the_work_horse_killed_5_times_the_worker_goes_on_and_each_ends_refunded(
    creator, figure
):
    start_balance = balance(creator)
    worker = scripted_worker()
    creations = []
    try:
        for _ in range(KILLS):
            creation = submit(creator, prompt="sleep 60")
            wait_for(lambda: status_of(creation) == "processing", what="the job to claim")  # noqa: B023
            horses = work_horse_pids(worker.pid)
            assert len(horses) == 1, horses
            os.kill(horses[0], signal.SIGKILL)
            # The worker itself notices, records the job as failed and waits for more.
            wait_for(lambda: work_horse_pids(worker.pid) == [], what="the horse to be reaped")
            creations.append(creation)
        failed_jobs = FailedJobRegistry(queue=queues.get_queue("images"))
        wait_for(lambda: failed_jobs.count == KILLS, what="RQ to record the killed jobs")
        assert worker.poll() is None, "the worker died with its horse"
    finally:
        stop_worker(worker)

    later = max(past_deadline(c) for c in creations)
    assert recovery.creations_recover(now=later) == {
        "reenqueued": 0,
        "failed": KILLS,
        "published": 0,
    }
    for creation in creations:
        creation.refresh_from_db()
        assert (creation.status, creation.error_code, refunds(creation)) == (
            "failed",
            "worker_lost",
            1,
        )
    assert balance(creator) == start_balance
    figure(
        f"{KILLS}/{KILLS} work-horse kills ended failed and refunded once; "
        "the worker survived all of them"
    )


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def lock_waiters(database: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock'",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_worker_killed_before_claiming_is_retried_by_recovery_and_the_retry_succeeds(
    creator, settings, figure
):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    creation = submit(creator, prompt="quick")
    database = connection.settings_dict["NAME"]
    db = connection.settings_dict
    # Hold the creation's row so the worker's claim waits: the kill lands before it.
    holder = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=database, autocommit=False
    )
    try:
        holder.execute("SELECT id FROM creations_creation WHERE id = %s FOR UPDATE", [creation.pk])
        worker = scripted_worker()
        try:
            wait_for(lambda: lock_waiters(database), what="the claim to wait on the row")
        finally:
            stop_worker(worker)
        # The server notices a dead client only when it next talks to it; end its session
        # as a connection pool or a restart would, so the orphaned claim never commits.
        with connection.cursor() as cursor:
            for pid in lock_waiters(database):
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        holder.rollback()
    finally:
        holder.close()
    assert status_of(creation) == "pending"

    # RQ gives up on the dead worker's job once its registry entry expires.
    images = queues.get_queue("images")
    StartedJobRegistry(queue=images).cleanup(timestamp=time.time() + 24 * 3600)
    assert queues.job_id_for(creation.id) in FailedJobRegistry(queue=images).get_job_ids()

    later = timezone.now() + timedelta(seconds=settings.PHOENIX_REENQUEUE_AFTER + 1)
    assert recovery.creations_recover(now=later) == {"reenqueued": 1, "failed": 0, "published": 0}
    run_worker_burst()

    creation.refresh_from_db()
    assert (creation.status, creation.attempts, refunds(creation)) == ("draft", 1, 0)
    figure("1/1 job killed before its claim was sent again by recovery and became a draft")
