"""The recovery pass against a job that finishes late, and against itself."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rq.job import Job

from creations import queues, services
from creations.jobs import recovery
from creations.models import Creation
from tests.conftest import queued_job_ids, run_at_once

from .conftest import (
    balance,
    files_in,
    past_deadline,
    refunds,
    scripted_worker,
    status_of,
    stop_worker,
    submit,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3


def test_recovery_failing_a_job_that_then_succeeds_keeps_the_refund_3_times(
    creator, private_media, figure
):
    start_balance = balance(creator)
    worker = scripted_worker()
    discarded = 0
    try:
        for _ in range(ROUNDS):
            creation = submit(creator, prompt="sleep 1")
            wait_for(lambda: status_of(creation) == "processing", what="the job to claim")  # noqa: B023
            # The pass thinks the job is lost and refunds it while the provider still works.
            assert recovery.creations_recover(now=past_deadline(creation))["failed"] == 1
            job = Job.fetch(
                queues.job_id_for(creation.id), connection=queues.get_queue("images").connection
            )
            wait_for(lambda: job.get_status(refresh=True) == "finished", what="the late job")  # noqa: B023
            assert job.return_value() == "discarded"
            creation.refresh_from_db()
            assert (creation.status, creation.error_code, refunds(creation)) == (
                "failed",
                "worker_lost",
                1,
            )
            discarded += 1
    finally:
        stop_worker(worker)
    assert balance(creator) == start_balance
    assert files_in(private_media) == set(), "a discarded result left its file behind"
    figure(
        f"{discarded}/{ROUNDS} late successes after a recovery refund were discarded: "
        "0 drafts, 1 refund each, 0 files left"
    )


def recover_in_threads(count: int) -> list[dict[str, int]]:
    return run_at_once([recovery.creations_recover] * count)


def test_two_recovery_passes_at_once_fail_each_stuck_creation_once_and_resend_each_job_once(
    creator, figure
):
    summaries = []
    for _ in range(5):
        long_ago = timezone.now() - timedelta(days=1)
        stuck = [services.creation_claim(creation_id=submit(creator).id) for _ in range(6)]
        Creation.objects.filter(pk__in=[c.pk for c in stuck]).update(processing_at=long_ago)
        lost = [submit(creator) for _ in range(4)]
        queues.get_queue("images").empty()  # their jobs are lost
        a_minute_ago = timezone.now() - timedelta(minutes=1)
        Creation.objects.filter(pk__in=[c.pk for c in lost]).update(created_at=a_minute_ago)

        results = recover_in_threads(2)

        # What each pass *reports* can overlap (both saw the same stuck rows in flight);
        # what happened may not: one failure and one refund each, one job each.
        assert all(refunds(c) == 1 and status_of(c) == "failed" for c in stuck)
        assert sorted(queued_job_ids()) == sorted(queues.job_id_for(c.id) for c in lost)
        assert all(status_of(c) == "pending" for c in lost)
        summaries.append(
            "+".join(str(r["failed"]) for r in results)
            + " failed, "
            + "+".join(str(r["reenqueued"]) for r in results)
            + " resent"
        )
        queues.get_queue("images").empty()
        for creation in lost:  # end them, so the next round starts clean
            services.creation_fail(creation=creation, code="staff_refund")
    figure(
        "5/5 rounds of two concurrent recovery passes: 6 stuck failed once each, 4 lost jobs "
        f"queued once each, 0 double refunds (passes reported: {'; '.join(summaries)})"
    )
