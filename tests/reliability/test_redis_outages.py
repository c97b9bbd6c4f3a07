"""Redis stopped or frozen under Phoenix: a private redis-server of each test's own."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rq.job import Job

from creations import queues
from creations.jobs import recovery
from creations.models import Creation
from tests.conftest import queued_job_ids, run_worker_burst

from .conftest import balance, refunds, scripted_worker, status_of, stop_worker, submit, wait_for
from .providers import SCRIPTED

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE = json.dumps({"type": "image", "prompt": "a fox in the snow"})


def post_create(client: Client):
    return client.post("/api/generate/creation", IMAGE, content_type="application/json")


@pytest.fixture
def creator_client(creator):
    client = Client()
    client.force_login(creator)
    return client


def test_3_creates_while_redis_is_stopped_get_503_and_a_refund_then_work_after_restart(
    private_redis, creator, creator_client, settings, figure
):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    start_balance = balance(creator)
    private_redis.stop()

    answers = [post_create(creator_client) for _ in range(3)]

    assert [a.status_code for a in answers] == [503] * 3
    assert {a.json()["error"] for a in answers} == {"queue_unavailable"}
    failed = Creation.objects.filter(owner=creator)
    assert [(c.status, c.error_code, refunds(c)) for c in failed] == [
        ("failed", "queue_unavailable", 1)
    ] * 3
    assert balance(creator) == start_balance

    private_redis.start()
    answer = post_create(creator_client)  # the same cached connection reconnects
    assert answer.status_code == 202, answer.content
    run_worker_burst()
    assert status_of(Creation.objects.get(pk=answer.json()["creation_id"])) == "draft"
    figure("3/3 creates with Redis stopped: 503 and refunded at once; after restart 1/1 draft")


def test_a_create_while_redis_is_frozen_times_out_refunded_and_its_late_job_does_nothing(
    private_redis, creator, creator_client, settings, figure
):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    start_balance = balance(creator)
    post_create(creator_client)  # connect while Redis answers, as a warm web process would
    run_worker_burst()
    private_redis.pause()
    try:
        answer = post_create(creator_client)
    finally:
        private_redis.resume()

    assert answer.status_code == 503
    creation = Creation.objects.get(pk=answer.json()["creation_id"])
    assert (creation.status, refunds(creation)) == ("failed", 1)
    # Redis may have taken the job after all once it thawed: running it changes nothing.
    late_jobs = queued_job_ids().count(queues.job_id_for(creation.id))
    run_worker_burst()
    creation.refresh_from_db()
    assert (creation.status, creation.attempts, refunds(creation)) == ("failed", 0, 1)
    assert balance(creator) == start_balance - 1  # only the first, finished create
    figure(
        "1/1 create against a frozen Redis: 503 after the socket timeout, refunded once; "
        f"{late_jobs} late job ran and changed nothing"
    )


def test_redis_frozen_mid_job_the_job_still_ends_as_a_draft_once_it_thaws(
    private_redis, creator, figure
):
    worker = scripted_worker()
    try:
        creation = submit(creator, prompt="sleep 1")
        wait_for(lambda: status_of(creation) == "processing", what="the job to claim")
        private_redis.pause()
        try:
            # The database side finishes without Redis; RQ's own bookkeeping has to wait.
            wait_for(lambda: status_of(creation) == "draft", what="the draft")
        finally:
            private_redis.resume()
        job = Job.fetch(
            queues.job_id_for(creation.id), connection=queues.get_queue("images").connection
        )
        wait_for(lambda: job.get_status(refresh=True) == "finished", what="RQ to finish the job")
        assert job.return_value() == "draft"
    finally:
        stop_worker(worker)
    creation.refresh_from_db()
    assert (creation.status, creation.attempts, refunds(creation)) == ("draft", 1, 0)
    figure("1/1 job with Redis frozen mid-job ended a draft, 0 refunds, job finished after thaw")


def test_recovery_with_redis_stopped_skips_resending_and_resends_once_it_is_back(
    private_redis, creator, monkeypatch, settings, figure
):
    monkeypatch.setattr("creations.services.submission.creation_enqueue", lambda creation: True)
    creation = submit(creator)  # committed, but its job never reached Redis
    monkeypatch.undo()
    later = timezone.now() + timedelta(seconds=settings.PHOENIX_REENQUEUE_AFTER + 1)

    private_redis.stop()
    assert recovery.creations_recover(now=later) == {"reenqueued": 0, "failed": 0, "published": 0}
    private_redis.start()
    assert recovery.creations_recover(now=later) == {"reenqueued": 1, "failed": 0, "published": 0}
    assert queued_job_ids() == [queues.job_id_for(creation.id)]
    assert status_of(creation) == "pending"
    figure("recovery with Redis down resent 0 and failed 0; once back it resent 1/1")
