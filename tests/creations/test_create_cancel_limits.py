"""Creates and cancels are rate-limited per account (PHOENIX_CREATES_PER_MINUTE,
PHOENIX_CANCELS_PER_HOUR): a create -> cancel loop would otherwise buy unlimited provider
work for the price of one creation. A refused request is a 429 with Retry-After and the
JSON error body, and changes nothing."""

import json

import pytest

from creations.models import Creation
from tests.conftest import queued_job_ids
from tokens.models import LedgerEntry

CREATE = "/api/generate/creation"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def limits(settings):
    settings.PHOENIX_CREATES_PER_MINUTE = 3
    settings.PHOENIX_CANCELS_PER_HOUR = 2
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    return settings


def create(client, **body):
    return client.post(
        CREATE,
        data=json.dumps({"type": "image", "prompt": "a red fox", **body}),
        content_type="application/json",
    )


def snapshot(user) -> tuple:
    user.token_account.refresh_from_db()
    return (
        user.token_account.balance,
        LedgerEntry.objects.count(),
        Creation.objects.count(),
        tuple(queued_job_ids()),
    )


def test_a_create_beyond_the_minute_limit_is_a_429_and_changes_nothing(
    limits, alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert create(alice_client).status_code == 202
    before = snapshot(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = create(alice_client)

    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "too_many_creates"
    assert "3 creations a minute" in body["message"]
    assert body["limit"] == 3
    assert 1 <= int(response["Retry-After"]) <= 60
    assert snapshot(alice) == before


def test_a_batch_counts_one_per_item_and_a_too_large_batch_is_refused_whole(
    limits, alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert create(alice_client, count=2).status_code == 202
    before = snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        refused = create(alice_client, count=2)
    after_refusal = snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        last = create(alice_client)

    assert refused.status_code == 429
    assert after_refusal == before
    assert last.status_code == 202  # the refused batch gave its count back


def test_requests_that_start_nothing_do_not_count(
    limits, alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert create(alice_client, prompt="").status_code == 400
        assert create(alice_client, idempotency_key="k1").status_code == 202
        # Replays of the same key return the first creation and start nothing.
        for _ in range(4):
            assert create(alice_client, idempotency_key="k1").status_code == 202
        assert create(alice_client).status_code == 202
        assert create(alice_client).status_code == 202
        assert create(alice_client).status_code == 429


def test_the_create_form_is_refused_with_the_same_message(
    limits, alice_client, alice, django_capture_on_commit_callbacks
):
    limits.PHOENIX_CREATES_PER_MINUTE = 1
    with django_capture_on_commit_callbacks(execute=True):
        first = alice_client.post("/create", {"type": "image", "prompt": "a fox"})
    before = snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        second = alice_client.post("/create", {"type": "image", "prompt": "a fox"})

    assert first.status_code == 302
    assert second.status_code == 429
    assert "1 creations a minute" in second.content.decode()
    assert snapshot(alice) == before


def test_the_create_forms_429_says_when_to_try_again_as_the_apis_does(
    limits, alice_client, django_capture_on_commit_callbacks
):
    limits.PHOENIX_CREATES_PER_MINUTE = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert alice_client.post("/create", {"type": "image", "prompt": "a fox"}).status_code == 302
        page = alice_client.post("/create", {"type": "image", "prompt": "a fox"})
        api = create(alice_client)

    assert (page.status_code, api.status_code) == (429, 429)
    assert 1 <= int(page["Retry-After"]) <= 60
    assert 1 <= int(api["Retry-After"]) <= 60
    assert f"Try again in {page['Retry-After']} seconds" in page.content.decode()


def test_a_rerun_counts_as_a_create(
    limits, alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    source = make_creation(owner=alice, status="draft")  # its create counted one
    limits.PHOENIX_CREATES_PER_MINUTE = 2
    with django_capture_on_commit_callbacks(execute=True):
        ok = alice_client.post(
            f"/api/creations/{source.id}/rerun", data="{}", content_type="application/json"
        )
    before = snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        refused = alice_client.post(
            f"/api/creations/{source.id}/rerun", data="{}", content_type="application/json"
        )

    assert ok.status_code == 202
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_creates"
    assert snapshot(alice) == before


def test_the_limit_is_per_account(limits, alice_client, bob, client, alice):
    limits.PHOENIX_CREATES_PER_MINUTE = 1
    assert create(alice_client).status_code == 202
    assert create(alice_client).status_code == 429
    client.force_login(bob)
    assert create(client).status_code == 202


def test_zero_turns_the_create_limit_off(limits, alice_client):
    limits.PHOENIX_CREATES_PER_MINUTE = 0
    for _ in range(5):
        assert create(alice_client).status_code == 202


def test_a_cancel_beyond_the_hour_limit_is_a_429_and_changes_nothing(
    limits, alice_client, alice, make_creation
):
    limits.PHOENIX_CREATES_PER_MINUTE = 0
    pending = [make_creation(owner=alice, status="pending") for _ in range(3)]
    for creation in pending[:2]:
        response = alice_client.post(f"/api/creations/{creation.id}/cancel")
        assert response.status_code == 200
    before = snapshot(alice)

    response = alice_client.post(f"/api/creations/{pending[2].id}/cancel")

    assert response.status_code == 429
    assert response.json() == {
        "error": "too_many_cancels",
        "message": "You can cancel 2 creations an hour. Try again in "
        f"{-(-int(response['Retry-After']) // 60)} minutes.",
    }
    assert 1 <= int(response["Retry-After"]) <= 3600
    pending[2].refresh_from_db()
    assert pending[2].status == "pending"
    assert snapshot(alice) == before


def test_a_refused_cancel_does_not_count(limits, alice_client, alice, make_creation):
    limits.PHOENIX_CREATES_PER_MINUTE = 0
    draft = make_creation(owner=alice, status="draft")
    for _ in range(3):
        assert alice_client.post(f"/api/creations/{draft.id}/cancel").status_code == 409
    pending = make_creation(owner=alice, status="pending")
    assert alice_client.post(f"/api/creations/{pending.id}/cancel").status_code == 200


def test_the_card_cancel_is_refused_with_429_and_retry_after(
    limits, alice_client, alice, make_creation
):
    limits.PHOENIX_CREATES_PER_MINUTE = 0
    limits.PHOENIX_CANCELS_PER_HOUR = 1
    first, second = (make_creation(owner=alice, status="processing") for _ in range(2))
    assert alice_client.post(f"/creations/{first.id}/cancel", headers=HTMX).status_code == 200

    response = alice_client.post(
        f"/creations/{second.id}/cancel",
        headers={**HTMX, "HX-Target": f"creation-{second.id}"},
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "You can cancel 1 creations an hour" in response.content.decode()
    second.refresh_from_db()
    assert second.status == "processing"
