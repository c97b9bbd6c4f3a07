"""The generation worker's horses take over one database session in turn (a new session
per horse was most of a short job's time), and only a session a horse left clean: one left
in a transaction, or by a horse killed mid-query, is closed and the next horse gets a
fresh one. A generation job itself runs in three statements."""

import os
import signal
import time

import pytest
from django.db import connection, transaction

from creations import queues
from creations.jobs import generation
from tests.conftest import start_worker, stop_worker, wait_for, work_horse_pids

pytestmark = pytest.mark.django_db(transaction=True)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def the_same_query_many_times() -> int:
    """Past psycopg's auto-prepare threshold (5): a session whose server-side prepared
    statements the next horse's client did not know of would fail it."""
    for _ in range(8):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM creations_creation WHERE kind = %s", ["image"])
    return backend_pid()


def leave_a_transaction_open() -> int:
    pid = backend_pid()
    transaction.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return pid


def in_a_long_query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(5)")


def run_in_the_generation_worker(*jobs):
    """Each (function, ) on `default`, run in order by the production worker class."""
    queue = queues.get_queue("default")
    enqueued = [queue.enqueue(job) for job in jobs]
    worker = start_worker("--burst")
    try:
        assert worker.wait(timeout=120) == 0
    finally:
        stop_worker(worker)
    return enqueued


def test_jobs_in_a_row_run_in_one_database_session():
    jobs = run_in_the_generation_worker(
        the_same_query_many_times, the_same_query_many_times, backend_pid
    )

    pids = [job.return_value() for job in jobs]
    assert None not in pids and len(set(pids)) == 1


def test_a_session_left_in_a_transaction_is_not_handed_on():
    left_open, after = run_in_the_generation_worker(leave_a_transaction_open, backend_pid)

    assert after.get_status() == "finished"
    assert after.return_value() != left_open.return_value()


def test_the_session_of_a_horse_killed_mid_query_is_not_handed_on():
    queue = queues.get_queue("default")
    first = queue.enqueue(backend_pid)
    killed = queue.enqueue(in_a_long_query)
    after = queue.enqueue(backend_pid)
    worker = start_worker("--burst")
    try:
        wait_for(lambda: killed.get_status(refresh=True) == "started", what="the long query")
        time.sleep(0.5)  # inside pg_sleep
        for horse in work_horse_pids(worker.pid):
            os.kill(horse, signal.SIGKILL)
        assert worker.wait(timeout=120) == 0
    finally:
        stop_worker(worker)

    assert after.get_status() == "finished"
    assert after.return_value() != first.return_value()


def test_an_image_job_runs_in_four_statements(
    alice, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The claim, the completion, the owner's notification, and the look-up of the owner's
    webhook endpoints (issue 23; one indexed read even for an owner with none — to be made
    free for them, see the hot-path issue)."""
    from creations import services
    from creations.validation import CreationRequest

    settings.PHOENIX_IMAGE_PROVIDER = "bench.providers:InstantProvider"
    creation, _ = services.creation_submit(
        user=alice, request=CreationRequest("image", "a lighthouse", "1:1")
    )

    with django_assert_num_queries(4), django_capture_on_commit_callbacks(execute=True):
        assert generation.creation_generate(creation_id=creation.pk) == "draft"

    assert creation.notifications.count() == 1
