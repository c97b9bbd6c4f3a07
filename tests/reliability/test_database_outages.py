"""PostgreSQL drops the worker's connection (pg_terminate_backend) in the middle of a job."""

import pytest
from django.db import connection

from .conftest import balance, refunds, scripted_worker, status_of, stop_worker, submit, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3


def terminate_other_backends() -> int:
    """End every other session on the test database: the worker's, while its job runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("prompt", "outcome", "refund_count"),
    [("sleep 1.5", "draft", 0), ("sleep 1.5 then crash", "failed", 1)],
    ids=["then-succeeds", "then-fails"],
)
def test_the_worker_connection_killed_mid_job_3_times_every_job_still_ends_right(
    creator, prompt, outcome, refund_count, figure
):
    start_balance = balance(creator)
    worker = scripted_worker()
    ended, terminated = 0, 0
    try:
        for _ in range(ROUNDS):
            creation = submit(creator, prompt=prompt)
            wait_for(lambda: status_of(creation) == "processing", what="the job to claim")  # noqa: B023
            killed = terminate_other_backends()
            assert killed >= 1, "the worker had no connection to kill"
            terminated += killed
            wait_for(lambda: status_of(creation) == outcome, what=outcome)  # noqa: B023
            creation.refresh_from_db()
            assert refunds(creation) == refund_count
            ended += 1
    finally:
        stop_worker(worker)
    expected_balance = start_balance - ROUNDS * (1 - refund_count)
    assert balance(creator) == expected_balance
    figure(
        f"{ended}/{ROUNDS} jobs whose connection was killed ({terminated} backends ended) "
        f"ended {outcome} with {refund_count} refund each"
    )
