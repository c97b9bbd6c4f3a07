"""The queue estimate's arithmetic (a pure function) and its words, then the same read from
the real queue: creations in PostgreSQL and workers registered in Redis."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from rq import Worker

from creations import queues, selectors
from creations.models import Creation
from creations.presenters import wait_label
from creations.selectors import QueueWorkers, estimate_wait

# The Procfile's worker: `rqworker images videos`, one fair order over both types.
SHARED = {
    "image": QueueWorkers(count=1, shared=("video",), first=()),
    "video": QueueWorkers(count=1, shared=("image",), first=("image",)),
}
TYPICAL = {"image": 10.0, "video": 60.0}


def shared_by(count: int) -> dict[str, QueueWorkers]:
    return {kind: QueueWorkers(count, w.shared, w.first) for kind, w in SHARED.items()}


def test_a_video_waits_for_the_jobs_the_order_starts_before_it():
    wait = estimate_wait(
        kind="video",
        ahead={"image": 2, "video": 3},
        running={},
        typical=TYPICAL,
        workers=SHARED["video"],
    )

    # 2 images and 3 videos ahead: 2×10 + 3×60, then its own 60.
    assert wait.place == 6
    assert wait.seconds == 2 * 10 + 3 * 60 + 60
    assert wait.starts_in == 2 * 10 + 3 * 60  # its card's next change: a worker takes it
    assert wait.sure


def test_what_is_running_counts_half():
    wait = estimate_wait(
        kind="image",
        ahead={"image": 2},
        running={"video": 1},
        typical=TYPICAL,
        workers=SHARED["image"],
    )

    # The video being generated is half done on average.
    assert wait.place == 3
    assert wait.seconds == 2 * 10 + 60 / 2 + 10


def test_several_workers_share_the_work_ahead():
    ahead, running = {"image": 4, "video": 4}, {"image": 1, "video": 2}

    one = estimate_wait(
        kind="video", ahead=ahead, running=running, typical=TYPICAL, workers=shared_by(1)["video"]
    )
    three = estimate_wait(
        kind="video", ahead=ahead, running=running, typical=TYPICAL, workers=shared_by(3)["video"]
    )

    work = 4 * 10 + 4 * 60 + 1 * 10 / 2 + 2 * 60 / 2  # 4 images, 4 videos, 3 running
    assert one.seconds == work + 60
    assert three.seconds == work / 3 + 60
    assert one.place == three.place == 9  # workers change the wait, not the place in line


def test_without_a_worker_or_without_history_the_estimate_is_unsure():
    no_worker = estimate_wait(
        kind="image",
        ahead={"image": 1},
        running={},
        typical=TYPICAL,
        workers=QueueWorkers(count=0),
    )
    no_history = estimate_wait(
        kind="image",
        ahead={"image": 1},
        running={},
        typical={"image": None, "video": 60.0},
        workers=SHARED["image"],
    )

    assert not no_worker.sure and not no_history.sure
    # The defaults stand in for a type without history: images 20 s.
    assert no_history.seconds == 20 + 20
    assert no_history.label == "a few minutes"


@pytest.mark.parametrize(
    ("seconds", "sure", "words"),
    [
        (14, True, "less than a minute"),
        (70, True, "about a minute"),
        (200, True, "about 3 minutes"),
        (599, True, "about 10 minutes"),
        (600, True, "more than 10 minutes"),
        (47 * 60, True, "more than 45 minutes"),
        (14, False, "a few minutes"),
        (300, False, "a few minutes"),
        (400, False, "more than 5 minutes"),
    ],
)
def test_a_wait_is_never_more_precise_than_it_can_be(seconds, sure, words):
    assert wait_label(seconds, sure=sure) == words


def finished(make_creation, owner, kind: str, seconds: float) -> Creation:
    creation = make_creation(owner=owner, status="draft", kind=kind)
    Creation.objects.filter(pk=creation.pk).update(
        processing_at=creation.draft_at - timedelta(seconds=seconds)
    )
    return creation


def test_the_typical_run_is_the_mean_of_the_last_finished_runs_of_its_type(
    alice, make_creation, settings
):
    for seconds in (10, 20, 30):
        finished(make_creation, alice, "image", seconds)
    finished(make_creation, alice, "video", 90)
    make_creation(owner=alice, status="failed")  # no run to count

    assert selectors.typical_generation_seconds("image") == pytest.approx(20)
    assert selectors.typical_generation_seconds("video") == pytest.approx(90)


def test_the_typical_run_counts_only_the_last_sample(alice, make_creation, monkeypatch):
    monkeypatch.setattr(selectors, "TYPICAL_RUN_SAMPLE", 2)
    for seconds in (100, 10, 20):  # claimed in this order: the oldest one drops out
        finished(make_creation, alice, "image", seconds)

    assert selectors.typical_generation_seconds("image") == pytest.approx(15)


def test_the_workers_are_read_from_rq_with_their_queue_order(registered_worker):
    registered_worker("images", "videos")
    registered_worker("images", "videos")
    registered_worker("default")

    layout = selectors.queue_workers()

    assert layout["image"] == QueueWorkers(count=2, shared=("video",), first=())
    assert layout["video"] == QueueWorkers(count=2, shared=("image",), first=("image",))


def test_the_workers_are_cached_for_a_few_seconds(registered_worker):
    registered_worker("images", "videos")
    assert selectors.queue_workers()["image"].count == 1
    another = Worker([queues.get_queue("images")], connection=queues.get_queue("images").connection)
    another.register_birth()

    cached = selectors.queue_workers()["image"].count
    # As when WORKERS_CACHE_SECONDS have passed: gone from the cache and the process.
    cache.delete("creations:queue-workers")
    selectors.forget_remembered("creations:queue-workers")
    fresh = selectors.queue_workers()["image"].count

    another.register_death()
    assert (cached, fresh) == (1, 2)
    assert selectors.WORKERS_CACHE_SECONDS <= 10


def test_a_card_on_a_mixed_queue_counts_both_types_and_the_workers(
    alice_client, alice, bob, make_creation, registered_worker
):
    finished(make_creation, bob, "image", 10)
    finished(make_creation, bob, "video", 60)
    # Bob queues two videos then three images; Alice's video joins the first round.
    for kind in ("video", "video", "image", "image", "image"):
        make_creation(owner=bob, status="pending", kind=kind, queued=True)
    mine = make_creation(owner=alice, status="pending", kind="video", queued=True)
    registered_worker("images", "videos")

    one = alice_client.get(f"/creations/{mine.id}/card", headers={"HX-Request": "true"})
    registered_worker("images", "videos")
    registered_worker("images", "videos")
    three = alice_client.get(f"/creations/{mine.id}/card", headers={"HX-Request": "true"})

    # Only Bob's first video is ahead of it (one job per other waiting creator): 60 s, then
    # its own 60 s.
    assert "#2 in line · ready in about 2 minutes" in one.content.decode()
    # Three workers: 60 / 3 + 60 = 80 s.
    assert "#2 in line · ready in about a minute" in three.content.decode()


def test_a_card_with_no_worker_running_says_a_few_minutes(alice_client, alice, make_creation):
    finished(make_creation, alice, "image", 5)
    mine = make_creation(owner=alice, status="pending", queued=True)

    html = alice_client.get(f"/creations/{mine.id}/card", headers={"HX-Request": "true"})

    assert "Next in line · ready in a few minutes" in html.content.decode()


def test_the_drafts_tab_and_the_card_poll_give_the_same_wait(
    alice, bob, make_creation, registered_worker
):
    registered_worker("images", "videos")
    finished(make_creation, alice, "image", 10)
    finished(make_creation, alice, "video", 60)
    made = [
        make_creation(owner=owner, status="pending", kind=kind, queued=True)
        for owner, kind in [(alice, "video"), (bob, "image"), (alice, "image"), (alice, "video")]
    ]

    page = {c.pk: c.wait for c in selectors.drafts_page(owner=alice).items if c.wait}
    polled = {
        c.pk: selectors.card_for_owner(owner=alice, creation_id=c.pk).wait
        for c in made
        if c.owner_id == alice.pk
    }

    assert page == polled
    # Rounds: alice video, bob image | alice image | alice video.
    assert sorted(w.place for w in page.values()) == [1, 3, 4]


def test_a_card_poll_reads_no_other_creation_on_a_mixed_queue(
    alice_client, alice, bob, make_creation, registered_worker, django_assert_num_queries
):
    registered_worker("images", "videos")
    finished(make_creation, bob, "video", 60)
    for kind in ("video", "image", "video"):
        make_creation(owner=bob, status="pending", kind=kind, queued=True)
    mine = make_creation(owner=alice, status="pending", kind="video", queued=True)
    url = f"/creations/{mine.id}/card?shown=pending"
    # Cold: the typical runs of both types in one more query (then cached for 30 s), the
    # workers from Redis (cached for a few seconds).
    with django_assert_num_queries(4):
        alice_client.get(url, headers={"HX-Request": "true"})

    # Warm, as nearly every poll is: session, user, the card; its place from the queue.
    with django_assert_num_queries(3):
        response = alice_client.get(url, headers={"HX-Request": "true"})

    assert "#2 in line" in response.content.decode()
