"""A replay answers from the stored request, whatever became of the source since; a batch
is answered 202 whenever any item was queued (503 only when none was); a rerun checks its
source again under its row lock."""

import json

import pytest
from redis.exceptions import RedisError

from creations import services
from creations.jobs import sending
from creations.models import Creation
from tests.creations.test_rerun import money_snapshot, rerun
from tokens import services as tokens
from tokens.models import LedgerEntry
from tokens.selectors import balance_of

URL = "/api/generate/creation"


def purge(creation: Creation) -> None:
    services.creation_trash(creation=creation)
    services.creation_purge(creation=creation)


def take_down(creation: Creation, staff) -> None:
    services.creation_take_down(creation=creation, staff=staff, reason="judged")


@pytest.mark.parametrize("fate", ["purged", "taken_down"])
def test_a_replayed_rerun_answers_the_same_creation_after_its_source_is_gone(
    alice_client, alice, make_creation, fate, admin_user, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="published")
    with django_capture_on_commit_callbacks(execute=True):
        first = rerun(alice_client, source, mode="vary", idempotency_key="k-1")
    assert first.status_code == 202
    if fate == "purged":
        purge(source)
    else:
        take_down(source, admin_user)
    before = money_snapshot(alice)

    again = rerun(alice_client, source, mode="vary", idempotency_key="k-1")

    assert again.status_code == 202, again.content
    assert again.json()["creation_id"] == first.json()["creation_id"]
    assert money_snapshot(alice) == before
    # A new key is refused, as before.
    assert rerun(alice_client, source, mode="vary", idempotency_key="k-2").status_code == 409


def test_a_replayed_animate_answers_the_same_video_after_its_image_is_purged(
    alice_client, alice, make_creation, private_media, django_capture_on_commit_callbacks
):
    image = make_creation(owner=alice, status="draft", kind="image")
    body = {
        "type": "video",
        "prompt": "move",
        "orientation": "landscape",
        "image_creation_id": str(image.id),
        "idempotency_key": "animate-1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = alice_client.post(URL, json.dumps(body), "application/json")
    assert first.status_code == 202
    purge(image)
    before = money_snapshot(alice)

    again = alice_client.post(URL, json.dumps(body), "application/json")

    assert again.status_code == 202, again.content
    assert again.json()["creation_id"] == first.json()["creation_id"]
    assert money_snapshot(alice) == before


def failing_sends(monkeypatch, failing: set[int]) -> None:
    """Redis refuses the jobs of the items whose batch_index is in `failing`."""
    real = sending.send_generation

    def send(creation):
        if creation.batch_index in failing:
            raise RedisError("down")
        return real(creation)

    monkeypatch.setattr(sending, "send_generation", send)


def post_batch(client, count=3):
    """Committed for real: the jobs are sent at COMMIT, before the view answers."""
    body = {"type": "image", "prompt": "fox", "count": count, "idempotency_key": "b-1"}
    return client.post(URL, json.dumps(body), "application/json")


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_first_item_could_not_be_queued_is_answered_202_with_its_batch(
    alice_client, alice, monkeypatch
):
    failing_sends(monkeypatch, {0})
    response = post_batch(alice_client)

    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["batch_id"] and len(answer["creations"]) == 3
    items = Creation.objects.order_by("batch_index")
    assert [c.status for c in items] == ["failed", "pending", "pending"]
    assert items[0].error_code == "queue_unavailable"
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    assert answer["balance"] == balance_of(alice)


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_later_item_could_not_be_queued_answers_the_balance_after_its_refund(
    alice_client, alice, monkeypatch
):
    failing_sends(monkeypatch, {2})
    response = post_batch(alice_client)

    assert response.status_code == 202
    assert response.json()["balance"] == balance_of(alice)
    assert [c.status for c in Creation.objects.order_by("batch_index")] == [
        "pending",
        "pending",
        "failed",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_batch_none_of_whose_items_could_be_queued_is_503_all_refunded(
    alice_client, alice, monkeypatch
):
    start = balance_of(alice)
    failing_sends(monkeypatch, {0, 1, 2})
    response = post_batch(alice_client)

    assert response.status_code == 503
    assert response.json()["error"] == "queue_unavailable"
    assert balance_of(alice) == start
    assert set(Creation.objects.values_list("status", flat=True)) == {"failed"}


@pytest.mark.parametrize("fate", ["purged", "taken_down"])
def test_a_source_gone_between_the_read_and_the_submit_is_refused_409_with_nothing_made(
    alice_client, alice, make_creation, fate, admin_user, monkeypatch
):
    source = make_creation(owner=alice, status="published")
    real_lock = tokens.lock_account

    def lock_then_lose_the_source(user):
        account = real_lock(user)
        if fate == "purged":
            purge(Creation.objects.get(pk=source.pk))
        else:
            take_down(Creation.objects.get(pk=source.pk), admin_user)
        return account

    monkeypatch.setattr(tokens, "lock_account", lock_then_lose_the_source)
    before = money_snapshot(alice)

    response = rerun(alice_client, source, mode="same_seed")

    assert (response.status_code, response.json()["error"]) == (409, "not_rerunnable")
    assert not Creation.objects.filter(parent=source).exists()
    balance, entries, _, jobs = money_snapshot(alice)
    assert (balance, entries, jobs) == (before[0], before[1], before[3])
