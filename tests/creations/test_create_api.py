import json

import pytest
from django.test import Client

from creations import services
from creations.models import Creation
from tests.conftest import queued_job_ids
from tokens.models import LedgerEntry

URL = "/api/generate/creation"


def post_json(client: Client, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **extra)


def money_snapshot(user) -> tuple:
    user.token_account.refresh_from_db()
    return (
        user.token_account.balance,
        LedgerEntry.objects.count(),
        Creation.objects.count(),
        tuple(queued_job_ids()),
    )


def test_it_accepts_an_image_and_debits_one_token(
    alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, {"type": "image", "prompt": "  a red fox  "})

    assert response.status_code == 202
    body = response.json()
    creation = Creation.objects.get(pk=body["creation_id"])
    assert body == {
        "creation_id": str(creation.id),
        "batch_id": None,
        "creations": [{"creation_id": str(creation.id), "seed": creation.seed}],
        "status": "pending",
        "type": "image",
        "cost": 1,
        "balance": 99,
        "seed": creation.seed,
        "parent_id": None,
        "status_url": f"/api/creations/{creation.id}",
        "drafts_url": "/soho/alice?tab=drafts",
    }
    assert creation.prompt == "a red fox"
    assert creation.aspect_ratio == "1:1"
    assert queued_job_ids() == [f"creation-{creation.id}"]
    debit = LedgerEntry.objects.get(creation=creation)
    assert (debit.kind, debit.amount, debit.balance_after) == ("debit", -1, 99)


def test_it_accepts_a_video_from_a_form_post(
    alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            URL, {"type": "video", "prompt": "waves", "orientation": "portrait", "aspect_ratio": ""}
        )
    assert response.status_code == 202
    assert response.json()["cost"] == 10
    assert response.json()["balance"] == 90
    assert Creation.objects.get().orientation == "portrait"


def test_an_htmx_post_is_told_where_to_go(alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            URL, {"type": "image", "prompt": "fox"}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 202
    made = response.json()["creation_id"]
    assert response["HX-Redirect"] == f"/soho/alice?tab=drafts&made={made}#creation-{made}"


BAD_REQUESTS = [
    ({"type": "audio", "prompt": "x"}, "invalid_type", "type"),
    ({"prompt": "x"}, "invalid_type", "type"),
    ({"type": "image"}, "prompt_required", "prompt"),
    ({"type": "image", "prompt": "   \n "}, "prompt_required", "prompt"),
    ({"type": "image", "prompt": "x" * 1001}, "prompt_too_long", "prompt"),
    (
        {"type": "image", "prompt": "x", "aspect_ratio": "2:1"},
        "invalid_aspect_ratio",
        "aspect_ratio",
    ),
    (
        {"type": "video", "prompt": "x", "orientation": "sideways"},
        "invalid_orientation",
        "orientation",
    ),
    (
        {"type": "image", "prompt": "x", "orientation": "portrait"},
        "field_not_allowed",
        "orientation",
    ),
    ({"type": "video", "prompt": "x", "aspect_ratio": "1:1"}, "field_not_allowed", "aspect_ratio"),
    ({"type": "image", "prompt": 5}, "invalid_prompt", "prompt"),
    ({"type": "image", "prompt": "a\x00fox"}, "invalid_prompt", "prompt"),
    ({"type": "image\x00", "prompt": "fox"}, "invalid_type", "type"),
    (
        {"type": "image", "prompt": "fox", "idempotency_key": "\x00"},
        "invalid_idempotency_key",
        "idempotency_key",
    ),
    ({"type": "image", "prompt": "x", "colour": "red"}, "unknown_field", "colour"),
    ('{"type": "image", "prompt": ', "malformed_json", None),
    ("[1, 2]", "malformed_request", None),
]


@pytest.mark.parametrize(("body", "code", "field"), BAD_REQUESTS)
def test_a_bad_request_is_400_and_changes_nothing(
    alice_client, alice, body, code, field, django_capture_on_commit_callbacks
):
    before = money_snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, body)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["field"] == field
    assert response.json()["message"]
    assert money_snapshot(alice) == before


def test_a_prompt_of_exactly_1000_characters_is_accepted(
    alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, {"type": "image", "prompt": "y" * 1000})
    assert response.status_code == 202


def test_an_anonymous_call_gets_401_json(client, alice):
    before = money_snapshot(alice)
    response = post_json(client, {"type": "image", "prompt": "fox"})
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_required"
    assert money_snapshot(alice) == before


def test_a_call_without_csrf_token_is_refused(alice, alice_client):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    before = money_snapshot(alice)
    response = post_json(csrf_client, {"type": "image", "prompt": "fox"})
    assert response.status_code == 403
    assert money_snapshot(alice) == before


def test_get_is_not_allowed(alice_client):
    assert alice_client.get(URL).status_code == 405


def test_too_few_tokens_is_402_and_changes_nothing(
    alice_client, alice, django_capture_on_commit_callbacks
):
    from tests.conftest import staff_adjust

    staff_adjust(user=alice, amount=-95, reason="test")
    before = money_snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, {"type": "video", "prompt": "waves"})
    assert response.status_code == 402
    assert response.json() == {
        "error": "insufficient_tokens",
        "message": "This needs 10 tokens and you have 5.",
        "balance": 5,
        "cost": 10,
        "buy_url": "/tokens/buy",
    }
    assert money_snapshot(alice) == before


def test_a_repeated_idempotency_key_returns_the_first_creation(
    alice_client, alice, django_capture_on_commit_callbacks
):
    body = {"type": "image", "prompt": "fox", "idempotency_key": "k-123"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, body)
        second = post_json(alice_client, body)
    assert first.status_code == second.status_code == 202
    assert first.json()["creation_id"] == second.json()["creation_id"]
    assert first.json()["balance"] == second.json()["balance"] == 99
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 99
    assert Creation.objects.count() == 1
    assert len(queued_job_ids()) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"prompt": "a wolf"},
        {"type": "video", "prompt": "fox"},
        {"aspect_ratio": "16:9"},
    ],
    ids=["another-prompt", "another-type", "another-aspect"],
)
def test_the_same_key_with_a_different_body_is_422_and_changes_nothing(
    alice_client, alice, changed, django_capture_on_commit_callbacks
):
    body = {"type": "image", "prompt": "fox", "idempotency_key": "k-reused"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, body)
    before = money_snapshot(alice)
    with django_capture_on_commit_callbacks(execute=True):
        reused = post_json(alice_client, {**body, **changed})
    assert first.status_code == 202
    assert reused.status_code == 422
    assert reused.json()["error"] == "idempotency_key_reused"
    assert reused.json()["field"] == "idempotency_key"
    assert "different request" in reused.json()["message"]
    assert money_snapshot(alice) == before
    assert Creation.objects.count() == 1


def test_the_same_body_in_another_spelling_is_the_same_request(
    alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, {"type": "image", "prompt": "fox", "idempotency_key": "k"})
        again = post_json(
            alice_client,
            '{"idempotency_key": "k", "prompt": "  fox ", "aspect_ratio": "1:1", "type": "image"}',
        )
    assert again.status_code == 202
    assert again.json()["creation_id"] == first.json()["creation_id"]


@pytest.mark.parametrize("then", ["trash", "purge"])
def test_a_key_stays_spent_after_its_creation_is_trashed_or_purged(
    alice_client, alice, then, django_capture_on_commit_callbacks
):
    body = {"type": "image", "prompt": "fox", "idempotency_key": "k-spent"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, body)
    creation = Creation.objects.get(pk=first.json()["creation_id"])
    services.creation_fail(creation=creation, code="generation_failed")
    services.creation_trash(creation=creation)
    if then == "purge":
        services.creation_purge(creation=creation)
    before = money_snapshot(alice)

    with django_capture_on_commit_callbacks(execute=True):
        replay = post_json(alice_client, body)
        other = post_json(alice_client, {**body, "prompt": "a wolf"})

    assert replay.status_code == 202
    assert replay.json()["creation_id"] == first.json()["creation_id"]
    assert other.status_code == 422
    assert money_snapshot(alice) == before
    assert Creation.objects.count() == 1


def test_a_prompt_posted_with_crlf_line_breaks_counts_each_break_once(
    alice_client, alice, django_capture_on_commit_callbacks
):
    # 1,000 characters as the page counts them: 10 lines of 99 and 9 breaks, +1 = 1000.
    lines = ["x" * 99] * 10
    prompt_lf = "\n".join(lines) + "y"
    assert len(prompt_lf) == 1000
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            "/api/generate/creation", {"type": "image", "prompt": prompt_lf.replace("\n", "\r\n")}
        )
    assert response.status_code == 202, response.json()
    assert Creation.objects.get().prompt == prompt_lf


@pytest.mark.django_db(transaction=True)
def test_an_enqueue_failure_that_is_not_redis_refunds_at_once_with_503(
    alice_client, alice, monkeypatch
):
    def refuse(*args, **kwargs):
        raise TypeError("cannot serialise this job")  # anything but a RedisError

    monkeypatch.setattr("rq.Queue.enqueue", refuse)
    response = post_json(alice_client, {"type": "video", "prompt": "waves"})

    assert response.status_code == 503
    assert response.json()["error"] == "queue_unavailable"
    creation = Creation.objects.get()
    assert (creation.status, creation.error_code) == ("failed", "queue_unavailable")
    assert creation.ledger_entries.filter(kind="refund").count() == 1
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100


@pytest.fixture
def in_flight_limit(settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 3
    return 3


def test_one_create_beyond_the_in_flight_limit_is_429_and_changes_nothing(
    alice_client, alice, make_creation, in_flight_limit, django_capture_on_commit_callbacks
):
    make_creation(owner=alice, status="draft")  # finished ones do not count
    make_creation(owner=alice, status="pending")
    make_creation(owner=alice, status="processing", kind="video")
    make_creation(owner=alice, status="pending")
    before = money_snapshot(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, {"type": "image", "prompt": "one too many"})

    assert response.status_code == 429
    assert response["Retry-After"] == "10"
    assert response.json() == {
        "error": "too_many_in_flight",
        "message": (
            "You have 3 creations queued or generating. "
            "Wait for one of them to finish, then try again."
        ),
        "limit": 3,
    }
    assert money_snapshot(alice) == before


def test_a_finished_creation_makes_room_again(
    alice_client, alice, make_creation, in_flight_limit, django_capture_on_commit_callbacks
):
    first, *_ = [make_creation(owner=alice, status="pending") for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_json(alice_client, {"type": "image", "prompt": "x"}).status_code == 429
    services.creation_fail(creation=first, code="safety_filter")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(alice_client, {"type": "image", "prompt": "x"})

    assert response.status_code == 202


def test_a_replay_at_the_limit_returns_the_first_creation_not_429(
    alice_client, alice, make_creation, in_flight_limit, django_capture_on_commit_callbacks
):
    body = {"type": "image", "prompt": "fox", "idempotency_key": "k-limit"}
    make_creation(owner=alice, status="pending")
    make_creation(owner=alice, status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, body)
        replay = post_json(alice_client, body)

    assert first.status_code == replay.status_code == 202
    assert replay.json()["creation_id"] == first.json()["creation_id"]


def test_the_status_endpoint_shows_the_owner_their_creation(
    alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        creation_id = post_json(alice_client, {"type": "image", "prompt": "fox"}).json()[
            "creation_id"
        ]
    body = alice_client.get(f"/api/creations/{creation_id}").json()
    assert body["status"] == "pending"
    assert body["type"] == "image"
    assert body["cost"] == 1
    assert body["refunded"] is False
    assert body["media_url"] is None


def test_the_status_endpoint_is_404_for_someone_else_exactly_like_unknown(
    alice_client, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        creation_id = post_json(alice_client, {"type": "image", "prompt": "fox"}).json()[
            "creation_id"
        ]
    bob_client = Client()
    bob_client.force_login(bob)
    theirs = bob_client.get(f"/api/creations/{creation_id}")
    unknown = bob_client.get("/api/creations/00000000-0000-0000-0000-000000000000")
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.content == unknown.content
    assert theirs.json() == {"error": "not_found", "message": "No such creation."}
    assert "no-store" in theirs["Cache-Control"]
