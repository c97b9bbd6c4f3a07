"""Run again (same seed), New seed, Vary and Edit & run: a create whose parent is the
source; owner only; the local provider gives byte-identical media for the same seed."""

import json

import pytest
from django.core.files.storage import default_storage

from creations import services
from creations.models import Creation
from profiles.services import creator_signup
from tests.conftest import queued_job_ids, run_worker_burst
from tokens.models import LedgerEntry


def rerun(client, creation, **body):
    return client.post(
        f"/api/creations/{creation.id}/rerun",
        data=json.dumps(body),
        content_type="application/json",
    )


def money_snapshot(user) -> tuple:
    user.token_account.refresh_from_db()
    return (
        user.token_account.balance,
        LedgerEntry.objects.count(),
        Creation.objects.count(),
        tuple(queued_job_ids()),
    )


@pytest.mark.parametrize("status", ["draft", "published", "scheduled", "failed", "canceled"])
def test_it_runs_again_from_a_draft_a_post_a_failed_or_a_canceled_creation(
    alice_client, alice, make_creation, status, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status=status, kind="video")
    with django_capture_on_commit_callbacks(execute=True):
        response = rerun(alice_client, source, mode="same_seed")

    assert response.status_code == 202
    child = Creation.objects.get(pk=response.json()["creation_id"])
    assert (child.parent_id, child.seed, child.kind) == (source.id, source.seed, "video")
    assert (child.prompt, child.orientation) == (source.prompt, "landscape")
    assert child.status == "pending"
    assert response.json()["parent_id"] == str(source.id)
    assert alice_client.get(f"/api/creations/{child.id}").json()["parent_id"] == str(source.id)
    assert LedgerEntry.objects.get(creation=child).amount == -10


def test_new_seed_and_vary_pick_another_seed_vary_a_near_one(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        varied = rerun(alice_client, source, mode="vary").json()
    distance = min((varied["seed"] - source.seed) % 2**32, (source.seed - varied["seed"]) % 2**32)
    assert 1 <= distance <= services.VARY_SPREAD
    with django_capture_on_commit_callbacks(execute=True):
        fresh = rerun(alice_client, source, mode="new_seed").json()
    assert fresh["parent_id"] == str(source.id)


def test_edit_and_run_takes_a_new_prompt(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        response = rerun(alice_client, source, mode="new_seed", prompt="  a blue fox ")
    child = Creation.objects.get(pk=response.json()["creation_id"])
    assert (child.prompt, child.parent_id) == ("a blue fox", source.id)


@pytest.mark.parametrize("status", ["pending", "processing", "taken_down"])
def test_it_refuses_what_cannot_be_run_again_and_changes_nothing(
    alice_client, alice, make_creation, status
):
    source = make_creation(owner=alice, status=status)
    before = money_snapshot(alice)
    response = rerun(alice_client, source, mode="same_seed")
    assert (response.status_code, response.json()["error"]) == (409, "not_rerunnable")
    assert money_snapshot(alice) == before


@pytest.mark.parametrize(
    "body,code",
    [
        ({"mode": "again"}, "invalid_mode"),
        ({"mode": "vary", "prompt": "   "}, "prompt_required"),
        ({"mode": "vary", "count": 2}, "unknown_field"),
    ],
)
def test_a_bad_rerun_request_is_400_and_changes_nothing(
    alice_client, alice, make_creation, body, code
):
    source = make_creation(owner=alice, status="draft")
    before = money_snapshot(alice)
    response = rerun(alice_client, source, **body)
    assert (response.status_code, response.json()["error"]) == (400, code)
    assert money_snapshot(alice) == before


def test_someone_elses_creation_cannot_be_run_again(client, alice, bob, make_creation):
    source = make_creation(owner=alice, status="draft")
    client.force_login(bob)
    before = (money_snapshot(alice), money_snapshot(bob))
    response = rerun(client, source, mode="same_seed")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert (money_snapshot(alice), money_snapshot(bob)) == before


def test_a_replayed_rerun_creates_nothing_even_for_vary(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        first = rerun(alice_client, source, mode="vary", idempotency_key="rerun-1")
    before = money_snapshot(alice)
    again = rerun(alice_client, source, mode="vary", idempotency_key="rerun-1")
    assert again.status_code == 202
    assert again.json()["creation_id"] == first.json()["creation_id"]
    assert money_snapshot(alice) == before
    other = rerun(alice_client, source, mode="same_seed", idempotency_key="rerun-1")
    assert other.status_code == 422


def test_a_purged_parent_leaves_its_child_whole(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        child_id = rerun(alice_client, source, mode="new_seed").json()["creation_id"]
    services.creation_trash(creation=source)
    services.creation_purge(creation=source)

    answer = alice_client.get(f"/api/creations/{child_id}")
    assert answer.status_code == 200
    assert answer.json()["parent_id"] == str(source.id)
    assert answer.json()["prompt"] == "a red fox in the snow"
    # And the purged parent cannot be run again (its prompt is gone).
    assert rerun(alice_client, source, mode="same_seed").status_code == 409


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["image", "video"])
def test_the_same_seed_again_gives_byte_identical_media_and_a_new_seed_does_not(
    client, private_media, kind
):
    alice = creator_signup(username="alice", password="alice-password-123")
    client.force_login(alice)
    body = {"type": kind, "prompt": "a lighthouse at dusk"}
    first = client.post("/api/generate/creation", json.dumps(body), "application/json")
    run_worker_burst()
    source = Creation.objects.get(pk=first.json()["creation_id"])
    assert source.status == "draft"

    same = rerun(client, source, mode="same_seed").json()["creation_id"]
    other = rerun(client, source, mode="new_seed").json()["creation_id"]
    run_worker_burst()

    def media_of(creation_id) -> bytes:
        creation = Creation.objects.get(pk=creation_id)
        assert creation.status == "draft", creation.error_message
        with default_storage.open(creation.media.name, "rb") as handle:
            return handle.read()

    assert media_of(same) == media_of(source.id)
    assert media_of(other) != media_of(source.id)
