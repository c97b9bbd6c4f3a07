"""The fair order (creations/fair_queue.py): round-robin by creator across images and videos,
the place in line that cards announce, cancel, and a worker killed mid-dequeue — on real
Redis, the real Lua scripts, real RQ workers (in-process and `manage.py rqworker`)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from rq.job import Job, JobStatus

from creations import fair_queue, queues, services
from creations.fair_queue import FairQueue
from creations.jobs import recovery, sending
from creations.models import Creation
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import (
    ROOT,
    run_worker_burst,
    staff_adjust,
    start_worker,
    stop_worker,
    worker_environment,
)

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = {
    "image": CreationRequest("image", "a red fox", "1:1"),
    "video": CreationRequest("video", "a red fox running", "", "landscape"),
}


def creator(name: str):
    return creator_signup(username=name, password=f"{name}-password-123")


def submit(user, kind: str = "image", count: int = 1) -> list[Creation]:
    """What the create API does: debit and row in one transaction, the job after COMMIT."""
    return [services.creation_submit(user=user, request=REQUESTS[kind])[0] for _ in range(count)]


def started_order() -> list[Creation]:
    return list(
        Creation.objects.exclude(processing_at=None)
        .select_related("owner")
        .order_by("processing_at")
    )


def announced_ahead(client, creation) -> int | None:
    client.force_login(creation.owner)
    answer = client.get(f"/api/creations/{creation.id}")
    assert answer.status_code == 200
    return answer.json()["ahead"]


def test_creator_b_queueing_1_behind_a_burst_of_20_from_a_starts_second(figure):
    alice, bob = creator("alice"), creator("bob")
    submit(alice, count=20)
    submit(bob)

    run_worker_burst()

    started = [c.owner.username for c in started_order()]
    assert started.index("bob") == 1
    assert Creation.objects.filter(status="draft").count() == 21
    figure("fair queue: creator B's 1 job started 2nd of 21, ahead of 19 of A's 20")


def test_an_image_burst_does_not_hold_back_another_creators_video(figure):
    """The worker serves `images videos`; RQ alone would take every image first."""
    alice, bob, carol = creator("alice"), creator("bob"), creator("carol")
    submit(alice, "image", count=15)
    (bobs_video,) = submit(bob, "video")
    (carols_image,) = submit(carol, "image")

    run_worker_burst()

    started = [c.pk for c in started_order()]
    # Alice's first image, then Bob's video and Carol's image: one job per other creator.
    assert started.index(bobs_video.pk) == 1
    assert started.index(carols_image.pk) == 2
    figure("fair queue: a video queued behind 15 images of another creator started 2nd")


def test_each_creator_keeps_their_own_order_and_creators_take_turns():
    a, b, c = creator("a"), creator("b"), creator("c")
    made = {"a": submit(a, count=3), "b": submit(b, "video", count=3), "c": submit(c, count=2)}

    run_worker_burst()

    started = started_order()
    assert [x.owner.username for x in started] == ["a", "b", "c", "a", "b", "c", "a", "b"]
    for creations in made.values():
        mine = [x.pk for x in creations]
        assert [x.pk for x in started if x.pk in mine] == mine  # FIFO within a creator


@pytest.mark.parametrize(
    "plan",
    [
        # (creator, type) in the order they are submitted
        [("a", "image")] * 4 + [("b", "video")] * 2,
        [("a", "video"), ("a", "image"), ("b", "image"), ("c", "video"), ("a", "image")]
        + [("c", "image"), ("b", "video"), ("c", "image"), ("a", "video")],
    ],
    ids=["two-creators", "three-creators"],
)
def test_the_jobs_start_in_the_order_the_cards_announced(client, plan, private_media):
    """With one real `rqworker images videos` (the Procfile's), the order in which the jobs
    really start is the order of the places in line the API announced before it started."""
    users = {name: creator(name) for name in {name for name, _ in plan}}
    made = [submit(users[name], kind)[0] for name, kind in plan]
    announced = {c.pk: announced_ahead(client, c) for c in made}
    assert sorted(announced.values()) == list(range(len(made)))

    worker = start_worker("--burst", MEDIA_ROOT=str(private_media))
    try:
        assert worker.wait(timeout=240) == 0, worker.stderr.read().decode()
    finally:
        stop_worker(worker)

    started = [c.pk for c in started_order()]
    assert len(started) == len(made)
    assert started == sorted(announced, key=announced.get)
    assert Creation.objects.filter(status="draft").count() == len(made)


def test_a_later_round_is_announced_behind_a_new_creators_job(client):
    alice, bob = creator("alice"), creator("bob")
    first, second = submit(alice, count=2)
    assert announced_ahead(client, second) == 1

    (bobs,) = submit(bob, "video")

    # Bob's video joins the current round: Alice's second job now has two ahead.
    assert announced_ahead(client, bobs) == 1
    assert announced_ahead(client, second) == 2
    assert announced_ahead(client, first) == 0


def test_a_canceled_job_leaves_the_order_and_the_others_move_up(client):
    alice, bob = creator("alice"), creator("bob")
    (alices,) = submit(alice)
    (bobs,) = submit(bob)
    images = queues.get_queue("images")
    assert images.count == 2

    services.creation_cancel(creation=alices)

    assert images.get_job_ids() == [queues.job_id_for(bobs.id)]
    assert announced_ahead(client, bobs) == 0
    run_worker_burst()
    assert Creation.objects.get(pk=bobs.pk).status == "draft"


def test_rq_helpers_and_the_dashboard_read_the_fair_order(alice):
    (first,) = submit(alice)
    (second,) = submit(alice)
    images = queues.get_queue("images")
    ids = [queues.job_id_for(first.id), queues.job_id_for(second.id)]

    assert images.count == 2
    assert images.get_job_ids() == ids
    assert images.get_job_position(ids[1]) == 1
    # A second job for the same creation is refused, as RQ's unique enqueue does.
    assert sending.send_generation(first) is False
    # RQ's own view of the jobs is intact.
    assert Job.fetch(ids[1], connection=images.connection).get_status() == JobStatus.QUEUED
    # A job canceled from RQ's side (the dashboard) is skipped, never run.
    Job.fetch(ids[0], connection=images.connection).cancel()
    run_worker_burst()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts, second.status) == ("pending", 0, "draft")
    assert images.count == 0


def test_a_plain_queue_beside_the_fair_ones_is_still_rqs_list(alice):
    default = queues.get_queue("default")
    default.enqueue(len, "abc")

    assert not default.fair
    assert default.connection.llen(default.key) == 1
    run_worker_burst()
    assert default.count == 0


POP_AND_DIE = """
import django, os, signal, sys
django.setup()
from creations import queues
from creations.fair_queue import FairQueue
queue = queues.get_queue("images")
job, _ = FairQueue.dequeue_any([queue, queues.get_queue("videos")], None,
                               connection=queue.connection)
print(job.id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # between the pop and the start
"""


def test_a_worker_killed_mid_dequeue_loses_no_job_and_runs_none_twice(
    alice, bob, private_media, figure
):
    (lost,) = submit(alice)
    (other,) = submit(bob)
    popped = subprocess.run(
        [sys.executable, "-c", POP_AND_DIE],
        cwd=ROOT,
        env=worker_environment(MEDIA_ROOT=str(private_media)),
        capture_output=True,
        timeout=60,
    )
    assert popped.returncode == -signal.SIGKILL, popped.stderr.decode()
    assert popped.stdout.decode().split() == [queues.job_id_for(lost.id)]
    images = queues.get_queue("images")
    assert images.get_job_ids() == [queues.job_id_for(other.id)]

    # Within the grace a claim is a worker about to start: left alone.
    assert fair_queue.requeue_abandoned(images.connection) == 0
    later = time.time() + fair_queue.CLAIM_GRACE_SECONDS + 1
    # Two recovery passes at once requeue it once, at the head of the order.
    assert fair_queue.requeue_abandoned(images.connection, now=later) == 1
    assert fair_queue.requeue_abandoned(images.connection, now=later) == 0
    assert images.get_job_ids()[0] == queues.job_id_for(lost.id)

    run_worker_burst()

    for creation in (lost, other):
        creation.refresh_from_db()
        assert (creation.status, creation.attempts) == ("draft", 1)
    assert images.connection.zcard(fair_queue.CLAIMED_KEY) == 0
    figure("fair queue: a job popped by a SIGKILLed worker ran once after recovery")


def test_a_job_that_started_is_never_requeued(alice, private_media):
    (creation,) = submit(alice)
    run_worker_burst()
    connection = queues.get_queue("images").connection
    # As if the claim had outlived its worker: the job's status says it ran.
    connection.zadd(fair_queue.CLAIMED_KEY, {queues.job_id_for(creation.id): 0})

    assert fair_queue.requeue_abandoned(connection) == 0
    assert queues.get_queue("images").count == 0
    assert connection.zcard(fair_queue.CLAIMED_KEY) == 0


def test_the_recovery_pass_requeues_abandoned_jobs(alice, monkeypatch):
    (creation,) = submit(alice)
    queue = queues.get_queue("images")
    fair_queue.FairQueue.lpop([queue.key], None, connection=queue.connection)
    monkeypatch.setattr(fair_queue, "CLAIM_GRACE_SECONDS", -1)

    counts = recovery.creations_recover()

    assert counts["reenqueued"] == 1
    assert queue.get_job_ids() == [queues.job_id_for(creation.id)]


def test_a_waiting_worker_wakes_for_a_new_job(alice):
    queue = queues.get_queue("images")
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n"
            "from creations import queues\n"
            "from creations.fair_queue import FairQueue\n"
            "q = queues.get_queue('images')\n"
            "print(FairQueue.lpop([q.key], 30, connection=q.connection)[1], flush=True)\n",
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(1.5)  # let it block on the empty queue
        (creation,) = submit(alice)
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            os.kill(waiting.pid, signal.SIGKILL)
    assert out.decode().strip() == queues.job_id_for(creation.id), err.decode()
    assert queue.count == 0


def test_an_empty_queue_times_out_as_rq_expects(clean_redis):
    from rq.exceptions import DequeueTimeout

    queue = queues.get_queue("images")
    with pytest.raises(DequeueTimeout):
        fair_queue.FairQueue.lpop([queue.key], 1, connection=queue.connection)


def test_enqueue_and_place_touch_no_more_than_a_few_keys(alice):
    """No script reads the whole queue: with 2,000 queued, a place in line is a handful
    of sorted-set operations (Redis's own command counter)."""
    connection = queues.get_queue("images").connection
    submit(alice, count=5)
    pipe = connection.pipeline()
    for n in range(2000):
        pipe.zadd(fair_queue.order_key("images"), {f"filler-{n}": 1_000 + n})
    pipe.execute()
    (bobs,) = submit(creator("bob"))
    before = json.loads(json.dumps(connection.info("commandstats")))

    fair_queue.ahead_of(connection, [("images", queues.job_id_for(bobs.id))])

    after = connection.info("commandstats")
    zrange = "cmdstat_zrange"
    assert after.get(zrange, {}).get("calls", 0) == before.get(zrange, {}).get("calls", 0)
    counted = after["cmdstat_zcount"]["calls"] - before.get("cmdstat_zcount", {}).get("calls", 0)
    assert counted == len(fair_queue._shared_queues())


def test_recovery_over_a_deep_queue_reads_job_statuses_in_batches(alice, settings):
    """600 pending creations whose jobs wait: the recovery pass asks Redis for their
    statuses a batch at a time and fetches only the 2 whose jobs were lost."""
    from datetime import timedelta

    from django.utils import timezone

    settings.PHOENIX_MAX_IN_FLIGHT = 1000
    staff_adjust(user=alice, amount=600, reason="a deep queue")
    waiting = submit(alice, count=602)
    connection = queues.get_queue("images").connection
    for creation in waiting[:2]:  # lost in a failover
        job_id = queues.job_id_for(creation.id)
        connection.delete(Job.key_for(job_id))
        connection.zrem(fair_queue.order_key("images"), job_id)
    Creation.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    before = connection.info("commandstats")

    counts = recovery.creations_recover()

    after = connection.info("commandstats")

    def calls(command: str) -> int:
        name = f"cmdstat_{command}"
        return after.get(name, {}).get("calls", 0) - before.get(name, {}).get("calls", 0)

    assert counts["reenqueued"] == 2
    assert calls("hgetall") == 2  # Job.fetch of the two lost ones, no other
    assert calls("hget") == 602  # every status, in pipelines of RECOVERY_BATCH
    assert queues.get_queue("images").count == 602


def test_a_card_poll_renders_when_its_place_moves_and_is_204_while_it_does_not(client):
    """The poll's one round trip reads the card's version and its place from the fair
    order itself (fair_queue.poll_read)."""
    from creations import polling

    alice, bob = creator("alice"), creator("bob")
    first, second = submit(alice, count=2)
    url = polling.card_poll_url(second, expires=False)
    assert "a=1" in url
    client.force_login(alice)
    headers = {"HX-Request": "true"}
    assert client.get(url, headers=headers).status_code == 204

    submit(bob)  # joins the round being served: one more job ahead of Alice's second

    moved = client.get(url, headers=headers)
    assert moved.status_code == 200
    assert "#3 in line" in moved.content.decode()
    again = polling.card_poll_url(second, expires=False)
    assert "a=2" in again
    assert client.get(again, headers=headers).status_code == 204


def test_a_creator_who_canceled_everything_joins_the_round_being_served(client):
    """Canceled jobs do not keep their creator's rounds: with nothing left waiting, their
    next job waits behind one job per other waiting creator, not behind all their rounds."""
    alice, bob = creator("alice"), creator("bob")
    canceled = submit(alice, count=5)
    submit(bob, count=5)
    for creation in canceled:
        services.creation_cancel(creation=creation)

    (again,) = submit(alice)

    assert announced_ahead(client, again) == 1  # Bob's first job only
    connection = queues.get_queue("images").connection
    assert connection.get(f"{fair_queue.QUEUED_PREFIX}{alice.pk}") == b"1"
    run_worker_burst()
    assert connection.hlen(fair_queue.OWNERS_KEY) == 0
    assert connection.get(f"{fair_queue.QUEUED_PREFIX}{bob.pk}") is None


def test_a_creators_round_memo_lives_exactly_while_they_have_a_job_waiting(alice):
    """No expiry while jobs wait (a long wait must not let a creator's next job jump their
    own older ones), and nothing left once the last one has left the order."""
    connection = queues.get_queue("images").connection
    submit(alice, count=2)
    last = f"{fair_queue.PREFIX}:last:{alice.pk}"
    assert connection.ttl(last) == -1
    assert connection.ttl(f"{fair_queue.QUEUED_PREFIX}{alice.pk}") == -1

    run_worker_burst()

    assert connection.exists(last, f"{fair_queue.QUEUED_PREFIX}{alice.pk}") == 0


def test_a_pending_creation_failed_by_staff_or_recovery_leaves_the_order(alice, bob, client):
    (failed,) = submit(alice)
    (waiting,) = submit(bob)

    services.creation_fail(creation=failed, code="queue_stalled")

    assert queues.get_queue("images").get_job_ids() == [queues.job_id_for(waiting.id)]
    assert announced_ahead(client, waiting) == 0


def test_a_requeued_abandoned_job_counts_again_among_its_creators_waiting_jobs(client):
    """A job put back by the recovery pass waits again as its creator's: their next job
    goes to the round after it (behind the other creator's second job), not beside it."""
    alice, bob = creator("alice"), creator("bob")
    (lost,) = submit(alice)
    submit(bob, count=2)
    images = queues.get_queue("images")
    job, _ = FairQueue.dequeue_any(
        [images, queues.get_queue("videos")], None, connection=images.connection
    )
    assert job.id == queues.job_id_for(lost.id)  # popped, never started (its worker died)
    later = time.time() + fair_queue.CLAIM_GRACE_SECONDS + 1
    assert fair_queue.requeue_abandoned(images.connection, now=later) == 1

    (after,) = submit(alice)

    assert images.get_job_ids()[0] == queues.job_id_for(lost.id)
    assert announced_ahead(client, after) == 3  # her lost job and both of Bob's
    run_worker_burst()
    assert [c.id for c in started_order()][-1] == after.id
    connection = images.connection
    assert connection.hlen(fair_queue.OWNERS_KEY) == 0
    assert connection.hlen(fair_queue.CLAIMED_OWNERS_KEY) == 0
    assert connection.exists(f"{fair_queue.QUEUED_PREFIX}{alice.pk}") == 0
