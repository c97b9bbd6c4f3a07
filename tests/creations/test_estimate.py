"""The queue estimate's arithmetic (a pure function) and its words, then the same read from
the real queue: creations in PostgreSQL and workers registered in Redis."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
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
    assert no_history.label == "in a few minutes"


@pytest.mark.parametrize(
    ("seconds", "sure", "words"),
    [
        # Bands round up: never a promise shorter than the bound.
        (14, True, "within a minute"),
        (60, True, "within a minute"),
        (61, True, "within 2 minutes"),
        (70, True, "within 2 minutes"),
        (200, True, "within 4 minutes"),
        (599, True, "within 10 minutes"),
        (600, True, "in more than 10 minutes"),
        (47 * 60, True, "in more than 45 minutes"),
        (14, False, "in a few minutes"),
        (300, False, "in a few minutes"),
        (400, False, "in more than 5 minutes"),
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
    for _ in range(selectors.SURE_AFTER_RUNS):
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
    assert "#2 in line · ready within 2 minutes" in one.content.decode()
    # Three workers: 60 / 3 + 60 = 80 s, said rounded up.
    assert "#2 in line · ready within 2 minutes" in three.content.decode()


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


# --- Honest waits: the label is the upper bound, rounded up -------------------------------


def test_the_label_says_the_longest_recent_run_not_the_mean():
    steady = selectors.RunStats(mean=30.0, high=30.0, runs=20)
    spread = selectors.RunStats(mean=30.0, high=100.0, runs=20)
    workers = SHARED["image"]
    calm = estimate_wait(
        kind="image", ahead={}, running={}, typical={"image": steady}, workers=workers
    )
    wide = estimate_wait(
        kind="image", ahead={}, running={}, typical={"image": spread}, workers=workers
    )
    assert calm.seconds == wide.seconds == 30  # the mean, for the API's eta_seconds
    assert (calm.upper, wide.upper) == (30, 100)
    assert calm.label == "within a minute"
    assert wide.label == "within 2 minutes"


def test_a_job_being_generated_may_have_just_started_in_the_upper_bound():
    stats = selectors.RunStats(mean=60.0, high=90.0, runs=20)
    wait = estimate_wait(
        kind="video",
        ahead={},
        running={"video": 1},
        typical={"video": stats},
        workers=SHARED["video"],
    )
    assert wait.seconds == 30 + 60  # half the running one, then its own mean
    assert wait.upper == 90 + 90


def test_few_finished_runs_say_a_few_minutes():
    few = selectors.RunStats(mean=5.0, high=6.0, runs=selectors.SURE_AFTER_RUNS - 1)
    wait = estimate_wait(
        kind="image", ahead={}, running={}, typical={"image": few}, workers=SHARED["image"]
    )
    assert not wait.sure
    assert wait.label == "in a few minutes"


def test_the_typical_runs_give_their_longest_and_their_count(alice, make_creation):
    for seconds in (10, 20, 60):
        finished(make_creation, alice, "image", seconds)
    stats = selectors.typical_run_stats_of(["image", "video"])
    assert stats["video"] is None
    assert stats["image"].mean == pytest.approx(30)
    assert stats["image"].high == pytest.approx(60)
    assert stats["image"].runs == 3


def test_a_processing_card_shows_what_is_left_of_the_longest_run(
    alice_client, alice, make_creation
):
    for seconds in (20, 30, 40, 50, 170):
        finished(make_creation, alice, "image", seconds)
    creation = make_creation(owner=alice, status="processing", kind="image")
    Creation.objects.filter(pk=creation.pk).update(
        processing_at=timezone.now() - timedelta(seconds=40)
    )
    html = alice_client.get(f"/creations/{creation.id}/card", headers={"HX-Request": "true"})
    # The longest lately took 170 s, 40 s of it have passed: 130 s left, said as 3 minutes.
    assert "Ready within 3 minutes" in html.content.decode()


def test_a_processing_card_past_the_longest_run_says_so(alice_client, alice, make_creation):
    for _ in range(5):
        finished(make_creation, alice, "image", 10)
    creation = make_creation(owner=alice, status="processing", kind="image")
    Creation.objects.filter(pk=creation.pk).update(
        processing_at=timezone.now() - timedelta(seconds=60)
    )
    html = alice_client.get(f"/creations/{creation.id}/card", headers={"HX-Request": "true"})
    assert "Taking longer than usual" in html.content.decode()
