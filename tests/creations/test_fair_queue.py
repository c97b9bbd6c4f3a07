"""Round-robin by creator: a burst from one creator does not make the others wait behind it
(real Redis, the real Lua placement, a real in-process RQ worker)."""

import pytest

from creations import fair_queue, queues, services
from creations.models import Creation
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import run_worker_burst

pytestmark = pytest.mark.django_db(transaction=True)


def queue_images(user, count: int) -> list[Creation]:
    request = CreationRequest("image", "a red fox", "1:1")
    return [services.creation_submit(user=user, request=request)[0] for _ in range(count)]


def owners_in_queue() -> list[str]:
    by_job = {
        queues.job_id_for(c.id): c.owner.username for c in Creation.objects.select_related("owner")
    }
    return [by_job[job_id] for job_id in queues.queue_for_kind("image").get_job_ids()]


def test_creator_b_queueing_1_behind_a_burst_of_20_from_a_starts_second(figure):
    alice = creator_signup(username="alice", password="alice-password-123")
    bob = creator_signup(username="bob", password="bob-password-123")
    queue_images(alice, 20)
    (bobs,) = queue_images(bob, 1)

    assert owners_in_queue() == ["alice", "bob"] + ["alice"] * 19
    run_worker_burst()

    started = list(
        Creation.objects.order_by("processing_at").values_list("owner__username", flat=True)
    )
    assert started.index("bob") == 1
    assert Creation.objects.filter(status="draft").count() == 21
    figure("fair queue: creator B's 1 job started 2nd of 21, ahead of 19 of A's 20")


def test_three_creators_take_turns_and_each_keeps_their_own_order():
    users = [creator_signup(username=n, password=f"{n}-password-123") for n in "abc"]
    made = {u.username: queue_images(u, 3) for u in users[:2]}
    made["c"] = queue_images(users[2], 2)

    assert owners_in_queue() == ["a", "b", "c", "a", "b", "c", "a", "b"]
    ids = queues.queue_for_kind("image").get_job_ids()
    for creations in made.values():
        mine = [queues.job_id_for(c.id) for c in creations]
        assert [i for i in ids if i in mine] == mine  # FIFO within a creator


def test_a_job_a_worker_already_took_is_left_alone(clean_redis):
    queue = queues.queue_for_kind("image")
    enqueue(queue, "x1", "1")
    enqueue(queue, "x2", "1")
    # Creator 2's job would go before x2, but a worker popped it before its placement.
    assert fair_queue.place(queue, "creation-gone", "2") is False
    assert queue.get_job_ids() == ["x1", "x2"]


def enqueue(queue, job_id: str, owner: str) -> None:
    """What creation_enqueue does, by hand: to the tail, then to its fair place."""
    queue.connection.rpush(queue.key, job_id)
    fair_queue.place(queue, job_id, owner)


def test_a_creator_keeps_their_own_order_while_workers_pop_between_enqueues(clean_redis):
    queue = queues.queue_for_kind("image")
    steps = "a b b a pop a a b pop pop b".split()
    for number, step in enumerate(steps):
        if step == "pop":
            queue.connection.lpop(queue.key)
        else:
            enqueue(queue, f"{step}{number}", step)

    ids = queue.get_job_ids()
    for creator in "ab":
        mine = [int(i[1:]) for i in ids if i[0] == creator]
        assert mine == sorted(mine), ids
    # b7 went in as b's third (behind a's third); b10 may not pass it.
    assert ids == ["a3", "a5", "a6", "b7", "b10"]
