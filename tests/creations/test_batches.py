"""Batches of variations (count 1..4) and stored seeds: one request, one account lock, one
row, debit, seed, job and refund per item."""

import itertools
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from creations.models import Creation
from creations.providers import GeneratedMedia, ProviderError
from profiles.services import creator_signup
from tests.conftest import queued_job_ids, run_worker_burst, staff_adjust
from tests.creations.fakes import tiny_png
from tokens.models import LedgerEntry

URL = "/api/generate/creation"
THIS_MODULE = "tests.creations.test_batches"


def post_json(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def money_snapshot(user) -> tuple:
    user.token_account.refresh_from_db()
    return (
        user.token_account.balance,
        LedgerEntry.objects.count(),
        Creation.objects.count(),
        tuple(queued_job_ids()),
    )


def test_a_batch_of_4_makes_4_creations_each_paid_seeded_and_queued(
    alice_client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            alice_client, {"type": "image", "prompt": "a red fox", "count": 4, "seed": 1000}
        )

    assert response.status_code == 202
    body = response.json()
    items = list(Creation.objects.order_by("batch_index"))
    assert [str(c.id) for c in items] == [item["creation_id"] for item in body["creations"]]
    assert body["creation_id"] == str(items[0].id)
    assert body["batch_id"] == str(items[0].batch_id)
    assert {c.batch_id for c in items} == {items[0].batch_id}
    assert [item["seed"] for item in body["creations"]] == [1000, 1001, 1002, 1003]
    assert [c.seed for c in items] == [1000, 1001, 1002, 1003]
    assert (body["cost"], body["balance"]) == (4, 96)
    for creation in items:
        debit = LedgerEntry.objects.get(creation=creation)
        assert (debit.kind, debit.amount) == ("debit", -1)
    assert queued_job_ids() == [f"creation-{c.id}" for c in items]


def test_without_a_seed_each_creation_still_stores_one_and_a_batch_counts_up(
    alice_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = post_json(alice_client, {"type": "image", "prompt": "fox", "count": 3}).json()
    seeds = [item["seed"] for item in body["creations"]]
    assert seeds == [(seeds[0] + i) % 2**32 for i in range(3)]
    status = alice_client.get(f"/api/creations/{body['creation_id']}").json()
    assert (status["seed"], status["parent_id"], status["seed_honored"]) == (seeds[0], None, True)
    assert status["batch_id"] == body["batch_id"]


def test_seeds_wrap_below_2_to_the_32(alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        body = post_json(
            alice_client, {"type": "image", "prompt": "fox", "count": 3, "seed": 2**32 - 2}
        ).json()
    assert [item["seed"] for item in body["creations"]] == [2**32 - 2, 2**32 - 1, 0]


def test_a_batch_of_4_with_3_tokens_is_refused_whole(alice_client, alice):
    staff_adjust(user=alice, amount=-97, reason="test: three tokens left")
    before = money_snapshot(alice)

    response = post_json(alice_client, {"type": "image", "prompt": "fox", "count": 4})

    assert response.status_code == 402
    assert response.json()["error"] == "insufficient_tokens"
    assert (response.json()["balance"], response.json()["cost"]) == (3, 4)
    assert money_snapshot(alice) == before


def test_the_in_flight_limit_counts_a_batchs_items(alice_client, alice, settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 3
    before = money_snapshot(alice)
    response = post_json(alice_client, {"type": "image", "prompt": "fox", "count": 4})
    assert response.status_code == 429
    assert money_snapshot(alice) == before


def test_a_replayed_batch_request_creates_nothing(
    alice_client, alice, django_capture_on_commit_callbacks
):
    body = {"type": "image", "prompt": "fox", "count": 4, "idempotency_key": "batch-1"}
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(alice_client, body)
    before = money_snapshot(alice)

    with django_capture_on_commit_callbacks(execute=True):
        again = post_json(alice_client, body)

    assert again.status_code == 202
    assert again.json()["creations"] == first.json()["creations"]
    assert again.json()["batch_id"] == first.json()["batch_id"]
    assert money_snapshot(alice) == before
    # The same key with another count is another request: refused, nothing made.
    other = post_json(alice_client, {**body, "count": 2})
    assert other.status_code == 422
    assert money_snapshot(alice) == before


def test_the_batch_takes_the_account_lock_once(
    alice_client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=False):
            response = post_json(alice_client, {"type": "image", "prompt": "fox", "count": 4})
    assert response.status_code == 202
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1, locks
    creation_inserts = [
        q for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "creations_')
    ]
    assert len(creation_inserts) == 1  # the items in one INSERT


def queries_of_one_debit(user) -> int:
    """What tokens.services spends on one debit, on its own (rolled back)."""
    from django.db import transaction

    from tokens import services as tokens

    with transaction.atomic():
        account = tokens.lock_account(user)
        creation = Creation.objects.create(owner=user, kind="image", prompt="x", cost=1)
        with CaptureQueriesContext(connection) as captured:
            tokens.account_debit_locked(account, amount=1, creation=creation)
        transaction.set_rollback(True)
    return len(captured)


def test_each_further_item_of_a_batch_costs_only_its_own_debit(
    alice_client, alice, django_capture_on_commit_callbacks
):
    def queries_for(count: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            with django_capture_on_commit_callbacks(execute=False):
                response = post_json(
                    alice_client, {"type": "image", "prompt": "fox", "count": count}
                )
        assert response.status_code == 202
        return len(queries.captured_queries)

    single, batch = queries_for(1), queries_for(4)
    # The rows go in one INSERT and the lock is taken once: three more debits, nothing else.
    assert batch <= single + 3 * queries_of_one_debit(alice)


@pytest.mark.parametrize(
    "field,value,code",
    [
        ("count", 0, "invalid_count"),
        ("count", 5, "invalid_count"),
        ("count", "many", "invalid_count"),
        ("count", True, "invalid_count"),
        ("count", 2.0, "invalid_count"),
        ("seed", -1, "invalid_seed"),
        ("seed", 2**32, "invalid_seed"),
        ("seed", "0x10", "invalid_seed"),
    ],
)
def test_a_bad_count_or_seed_is_400_and_changes_nothing(alice_client, alice, field, value, code):
    before = money_snapshot(alice)
    response = post_json(alice_client, {"type": "image", "prompt": "fox", field: value})
    assert response.status_code == 400
    assert (response.json()["error"], response.json()["field"]) == (code, field)
    assert money_snapshot(alice) == before


def test_the_form_sends_count_and_seed_as_text(alice_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            URL, {"type": "image", "prompt": "fox", "count": "2", "seed": "7"}
        )
    assert response.status_code == 202
    assert [c["seed"] for c in response.json()["creations"]] == [7, 8]


def test_the_database_refuses_a_seed_out_of_range(alice, make_creation):
    from django.db import IntegrityError, transaction

    creation = make_creation(owner=alice, status="draft")
    with pytest.raises(IntegrityError), transaction.atomic():
        Creation.objects.filter(pk=creation.pk).update(seed=2**32)


def test_a_batch_lists_its_items_for_its_owner_only(
    alice_client, bob, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = post_json(alice_client, {"type": "image", "prompt": "fox", "count": 2}).json()
    url = f"/api/batches/{body['batch_id']}"

    answer = alice_client.get(url)
    assert answer.status_code == 200
    assert [c["creation_id"] for c in answer.json()["creations"]] == [
        item["creation_id"] for item in body["creations"]
    ]
    assert {c["status"] for c in answer.json()["creations"]} == {"pending"}

    client.force_login(bob)
    assert client.get(url).status_code == 404
    assert client.get("/api/batches/00000000-0000-0000-0000-000000000000").status_code == 404


class FailsOneSeedProvider:
    """A provider that fails for seed 502 only, as a real one may fail one item of four."""

    honours_seed = True

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        if seed == 502:
            raise ProviderError("this one item failed")
        return GeneratedMedia(tiny_png(), "png", "image/png", 8, 8)


@pytest.mark.django_db(transaction=True)
def test_a_batch_where_one_items_provider_fails_refunds_exactly_that_item(
    client, settings, private_media
):
    settings.PHOENIX_IMAGE_PROVIDER = f"{THIS_MODULE}:FailsOneSeedProvider"
    alice = creator_signup(username="alice", password="alice-password-123")
    client.force_login(alice)
    response = post_json(client, {"type": "image", "prompt": "fox", "count": 4, "seed": 500})
    assert response.status_code == 202

    run_worker_burst()

    items = list(Creation.objects.order_by("batch_index"))
    assert [c.status for c in items] == ["draft", "draft", "failed", "draft"]
    refunds = LedgerEntry.objects.filter(kind="refund")
    assert [r.creation_id for r in refunds] == [items[2].id]
    assert refunds.get().amount == 1
    alice.token_account.refresh_from_db()
    assert alice.token_account.balance == 100 - 4 + 1


@pytest.mark.django_db(transaction=True)
def test_the_fair_queue_interleaves_two_creators_batches_item_by_item(client, private_media):
    alice = creator_signup(username="alice", password="alice-password-123")
    bob = creator_signup(username="bob", password="bob-password-123")
    for user in (alice, bob):
        client.force_login(user)
        body = {"type": "image", "prompt": "fox", "count": 4}
        assert post_json(client, body).status_code == 202

    run_worker_burst()

    started = Creation.objects.select_related("owner").order_by("processing_at")
    assert [c.owner.username for c in started] == ["alice", "bob"] * 4
    assert [c.batch_index for c in started if c.owner == alice] == [0, 1, 2, 3]


@given(
    base=st.one_of(st.none(), st.integers(min_value=0, max_value=2**32 - 1)),
    count=st.integers(min_value=1, max_value=4),
)
def test_a_batchs_seeds_are_always_in_range_and_consecutive(base, count):
    from creations.services import batch_seeds

    seeds = batch_seeds(base, count)
    assert len(seeds) == count
    assert all(0 <= seed < 2**32 for seed in seeds)
    assert all((b - a) % 2**32 == 1 for a, b in itertools.pairwise(seeds))
    if base is not None:
        assert seeds[0] == base


@given(value=st.one_of(st.integers(), st.text(max_size=14), st.booleans(), st.floats()))
def test_a_seed_is_parsed_or_refused_never_stored_out_of_range(value):
    from creations.validation import RequestProblem, parse_seed

    try:
        seed = parse_seed(value)
    except RequestProblem as problem:
        assert problem.code == "invalid_seed"
        return
    assert seed is None or 0 <= seed < 2**32
