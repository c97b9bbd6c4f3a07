"""/metrics: a bearer token or a staff session; counters counted when each event happens
(kept in Redis, so every process adds to one count), gauges for the current state, and
RQ's own figures."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from creations import queues, services
from creations.events import creation_event
from creations.models import Creation
from ops import counters, exporter
from profiles.services import creator_signup
from tests.conftest import start_worker
from tokens.models import TokenAccount

from .conftest import creation_in_state

URL = reverse("prometheus_metrics")
TOKEN = "scrape-token-0123456789"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.PHOENIX_METRICS_TOKEN = TOKEN


def scrape(client: Client | None = None) -> dict[tuple, float]:
    """Every sample of one scrape: {(name, (label, value), ...): value}."""
    response = (client or Client()).get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return samples


def key(name: str, **labels: str) -> tuple:
    return (name, *sorted(labels.items()))


def counter_moves(before: dict, after: dict) -> dict[tuple, float]:
    """The Phoenix event counters (and histogram parts) that changed between two scrapes."""
    moved = {}
    for sample, value in after.items():
        name = sample[0]
        counted = name.startswith(("phoenix_creation", "phoenix_posts", "phoenix_refunded"))
        if counted and name.endswith(("_total", "_bucket", "_count")):
            if value != before.get(sample, 0):
                moved[sample] = value - before.get(sample, 0)
    return moved


# --- access -----------------------------------------------------------------------------


def test_without_credentials_it_answers_401(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_a_wrong_token_is_refused(client, db, header):
    assert client.get(URL, HTTP_AUTHORIZATION=header).status_code == 403


def test_no_token_is_accepted_when_none_is_configured(client, db, settings):
    settings.PHOENIX_METRICS_TOKEN = ""
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_signed_in_creator_who_is_not_staff_is_refused(alice_client):
    assert alice_client.get(URL).status_code == 403


def test_a_staff_session_gets_the_metrics(client, plain_staff):
    client.force_login(plain_staff)
    response = client.get(URL)
    assert response.status_code == 200
    assert "phoenix_creations_completed_total" in response.content.decode()


# --- gauges: the current state ------------------------------------------------------------


def test_the_gauges_tell_the_current_state_and_every_counter_starts_at_zero(client, alice, bob):
    creation_in_state(owner=alice, status="processing")
    creation_in_state(owner=alice, kind="video", status="pending")
    creation_in_state(owner=bob, status="processing", age=timedelta(hours=3))  # past deadline
    creation_in_state(owner=alice, status="failed", error_code="timed_out", refunded=False)
    TokenAccount.objects.filter(user=bob).update(balance=7)
    queues.get_queue("images").enqueue("builtins.print", "waiting")

    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response["Content-Type"].startswith("text/plain")
    samples = scrape()
    assert samples[key("phoenix_creations_in_flight", kind="image", status="processing")] == 2
    assert samples[key("phoenix_creations_in_flight", kind="video", status="pending")] == 1
    assert samples[key("phoenix_creations_in_flight", kind="video", status="processing")] == 0
    assert samples[key("phoenix_creations_past_deadline")] == 1
    assert samples[key("phoenix_unrefunded_failures")] == 1
    assert samples[key("phoenix_token_discrepancies")] == 1
    assert samples[key("phoenix_queue_depth", queue="images")] == 1
    assert samples[key("phoenix_queue_depth", queue="videos")] == 0
    assert samples[key("phoenix_workers")] == 0
    assert samples[key("phoenix_counters_up")] == 1
    assert samples[key("phoenix_redis_up")] == 1
    # The ledger: two sign-up grants of 100, three debits of 1 and one of 10.
    assert samples[key("phoenix_ledger_tokens_total", kind="grant")] == 200
    assert samples[key("phoenix_ledger_entries_total", kind="debit")] == 4
    assert samples[key("phoenix_ledger_tokens_total", kind="debit")] == 13
    # Nothing was counted here (no event is sent before COMMIT, and these tests never
    # commit), yet every series is there from 0, so that rate() sees the first increase.
    for kind in ("image", "video"):
        assert samples[key("phoenix_creations_completed_total", kind=kind)] == 0
        assert samples[key("phoenix_creations_failed_total", kind=kind, code="storage_failed")] == 0
        assert samples[key("phoenix_creations_canceled_total", kind=kind)] == 0
        assert samples[key("phoenix_posts_published_total", kind=kind, scheduled="true")] == 0
        assert samples[key("phoenix_creation_seconds_bucket", kind=kind, le="+Inf")] == 0
        assert samples[key("phoenix_creation_events_total", event="trashed", kind=kind)] == 0
    assert samples[key("phoenix_refunded_tokens_total")] == 0
    # RQ's own collector, from django-rq.
    assert samples[key("rq_jobs", queue="images", status="queued")] == 1
    # No sliding windows any more: nothing is recomputed over a window per scrape.
    assert not [sample for sample in samples if ("window", "1h") in sample]


# --- counters: counted when it happens ------------------------------------------------------


@pytest.fixture
def carol(transactional_db):
    return creator_signup(username="carol", password="carol-password-123")


@pytest.mark.django_db(transaction=True)
def test_each_event_moves_its_counter_by_exactly_one(carol, make_creation):
    before = scrape()

    make_creation(owner=carol, status="draft")
    make_creation(owner=carol, status="failed", code="storage_failed")
    make_creation(owner=carol, kind="video", status="canceled")
    make_creation(owner=carol, status="published")
    scheduled = make_creation(owner=carol, status="scheduled")
    assert services.creation_publish_due(
        creation_id=scheduled.id, now=scheduled.publish_at + timedelta(seconds=1)
    )

    after = scrape()
    waits = [
        (c.draft_at - c.created_at).total_seconds()
        for c in Creation.objects.filter(draft_at__isnull=False)
    ]
    assert len(waits) == 3
    # Each bucket counts the waits at or below its bound (all of them, unless this
    # machine took over a second to make a draft).
    image_buckets = {
        key("phoenix_creation_seconds_bucket", kind="image", le=f"{float(bound)}"): sum(
            1 for wait in waits if wait <= bound
        )
        for bound in counters.HISTOGRAM_BUCKETS
    }
    image_buckets[key("phoenix_creation_seconds_bucket", kind="image", le="+Inf")] = 3
    assert counter_moves(before, after) == {
        # The draft, the post and the scheduled post each reached draft once.
        key("phoenix_creations_completed_total", kind="image"): 3,
        **{bucket: n for bucket, n in image_buckets.items() if n},
        key("phoenix_creation_seconds_count", kind="image"): 3,
        key("phoenix_creations_failed_total", kind="image", code="storage_failed"): 1,
        key("phoenix_creations_refunded_total", kind="image"): 1,
        key("phoenix_creations_canceled_total", kind="video"): 1,
        key("phoenix_creations_refunded_total", kind="video"): 1,
        key("phoenix_refunded_tokens_total"): 11,  # the image's 1 and the video's 10
        key("phoenix_posts_published_total", kind="image", scheduled="false"): 1,
        key("phoenix_creation_events_total", event="scheduled", kind="image"): 1,
        key("phoenix_posts_published_total", kind="image", scheduled="true"): 1,
    }
    moved_sum = after[key("phoenix_creation_seconds_sum", kind="image")] - before.get(
        key("phoenix_creation_seconds_sum", kind="image"), 0
    )
    assert moved_sum == pytest.approx(sum(waits))

    # A second scrape counts nothing again: the counters move with events, not scrapes.
    assert counter_moves(after, scrape()) == {}


@pytest.mark.django_db(transaction=True)
def test_trash_restore_purge_and_take_down_are_counted_by_event(carol, make_creation):
    post = make_creation(owner=carol, status="published")
    draft = make_creation(owner=carol, kind="video", status="draft")
    before = scrape()

    services.creation_unpublish(creation=post)
    services.creation_trash(creation=draft)
    services.creation_restore(creation=draft)
    services.creation_trash(creation=draft)
    services.creation_purge(creation=draft)
    services.creation_publish(creation=post)
    services.creation_take_down(creation=post, staff=None, reason="Breaks the rules.")

    assert counter_moves(before, scrape()) == {
        key("phoenix_creation_events_total", event="unpublished", kind="image"): 1,
        key("phoenix_creation_events_total", event="trashed", kind="video"): 2,
        key("phoenix_creation_events_total", event="restored", kind="video"): 1,
        key("phoenix_creation_events_total", event="purged", kind="video"): 1,
        key("phoenix_posts_published_total", kind="image", scheduled="false"): 1,
        key("phoenix_creation_events_total", event="taken_down", kind="image"): 1,
    }


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_its_forked_work_horse_count_into_the_same_redis(carol):
    from creations.validation import CreationRequest

    before = scrape()
    for prompt in ("a red fox", "a blue fox"):
        services.creation_submit(user=carol, request=CreationRequest("image", prompt, "1:1"))
    connection.close()

    worker = start_worker("--burst")
    assert worker.wait(timeout=60) == 0, worker.stderr.read().decode()
    worker.stderr.close()

    after = scrape()
    assert Creation.objects.filter(status="draft").count() == 2
    completed = key("phoenix_creations_completed_total", kind="image")
    assert after[completed] - before[completed] == 2
    count = key("phoenix_creation_seconds_count", kind="image")
    assert after[count] - before[count] == 2


# --- the histogram ----------------------------------------------------------------------------


def test_the_histogram_buckets_are_cumulative_with_sum_and_count(db):
    for seconds in (0.5, 1, 20, 20.5, 700):
        counters.count("completed", "video", {"seconds": seconds})

    histogram = exporter.histogram_family(exporter.parse(counters.read()))

    video = {
        sample.labels["le"]: sample.value
        for sample in histogram.samples
        if sample.name.endswith("_bucket") and sample.labels["kind"] == "video"
    }
    assert video == {
        "1.0": 2,  # 0.5 and exactly 1: a bucket counts what is at or below its bound
        "2.0": 2,
        "5.0": 2,
        "10.0": 2,
        "20.0": 3,
        "30.0": 4,
        "60.0": 4,
        "120.0": 4,
        "180.0": 4,
        "300.0": 4,
        "600.0": 4,
        "+Inf": 5,
    }
    totals = {
        s.name: s.value
        for s in histogram.samples
        if s.labels["kind"] == "video" and "le" not in s.labels
    }
    assert totals == {"phoenix_creation_seconds_count": 5, "phoenix_creation_seconds_sum": 742.0}
    image = [s.value for s in histogram.samples if s.labels["kind"] == "image"]
    assert set(image) == {0}


# --- Redis down ----------------------------------------------------------------------------


def test_a_redis_error_while_counting_is_logged_and_dropped(db, alice, settings, caplog):
    creation = creation_in_state(owner=alice, status="draft")
    settings.RQ_QUEUES = {
        **settings.RQ_QUEUES,
        "default": {**settings.RQ_QUEUES["default"], "URL": "redis://127.0.0.1:9/0"},
    }
    queues.reset()

    # send(), not send_robust(): a listener that raised would fail this call.
    creation_event.send(
        sender=Creation, event="completed", creation=creation, details={"seconds": 3.0}
    )

    assert "Could not count completed of a image in Redis" in caplog.text


def test_the_scrape_leaves_the_counters_out_while_their_redis_cannot_be_read(db, settings):
    settings.RQ_QUEUES = {
        **settings.RQ_QUEUES,
        "default": {**settings.RQ_QUEUES["default"], "URL": "redis://127.0.0.1:9/0"},
    }
    queues.reset()

    families = {family.name: family for family in exporter.PhoenixCollector().collect()}

    assert families["phoenix_counters_up"].samples[0].value == 0
    assert families["phoenix_redis_up"].samples[0].value == 0
    assert "phoenix_creations_completed" not in families
    assert "phoenix_creation_seconds" not in families
    # The state read from PostgreSQL is still told.
    assert "phoenix_unrefunded_failures" in families


def test_the_last_alert_run_is_told_so_a_stopped_runner_can_alert(client, db):
    from ops import alerting
    from ops.models import AlertRunner

    assert scrape()[key("phoenix_alerts_last_run_timestamp_seconds")] == 0  # never ran

    alerting.alerts_run()

    ran_at = AlertRunner.objects.get().ran_at
    assert scrape()[key("phoenix_alerts_last_run_timestamp_seconds")] == ran_at.timestamp()
