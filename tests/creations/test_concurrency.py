"""Many parallel creates against a balance that covers only some of them."""

import pytest

from creations.models import Creation
from creations.services import creation_claim
from profiles.services import creator_signup
from tests.conftest import queued_job_ids, race_creates, run_at_once, staff_adjust
from tokens.services import ledger_discrepancies


@pytest.fixture(autouse=True)
def no_in_flight_limit(settings):
    """Only the balance may stop these creates; the in-flight limit has its own tests."""
    settings.PHOENIX_MAX_IN_FLIGHT = 0


@pytest.fixture
def creator(transactional_db):
    user = creator_signup(username="racer", password="racer-password-123")
    staff_adjust(user=user, amount=-75, reason="leave 25")  # balance 25
    return user


@pytest.mark.django_db(transaction=True)
def test_40_parallel_image_creates_against_25_tokens_accept_exactly_25(creator):
    outcomes = race_creates(creator, [{"type": "image", "prompt": f"fox {i}"} for i in range(40)])

    assert sorted(status for _, status in outcomes) == [202] * 25 + [402] * 15
    creator.token_account.refresh_from_db()
    assert creator.token_account.balance == 0
    assert Creation.objects.filter(owner=creator).count() == 25
    assert len(queued_job_ids()) == 25
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_mixed_video_and_image_creates_never_overspend(creator):
    bodies = [{"type": "video", "prompt": f"wave {i}"} for i in range(4)] + [
        {"type": "image", "prompt": f"fox {i}"} for i in range(12)
    ]
    outcomes = race_creates(creator, bodies)

    creator.token_account.refresh_from_db()
    balance = creator.token_account.balance
    spent = sum(Creation.objects.filter(owner=creator).values_list("cost", flat=True))
    accepted = [kind for kind, status in outcomes if status == 202]
    refused = [kind for kind, status in outcomes if status == 402]
    assert len(accepted) + len(refused) == 16
    assert len(accepted) == Creation.objects.filter(owner=creator).count()
    assert balance == 25 - spent >= 0
    # The balance only falls, so every refusal was for a cost the final balance can't cover.
    costs = {"image": 1, "video": 10}
    assert all(balance < costs[kind] for kind in refused)
    assert ledger_discrepancies() == []


@pytest.mark.django_db(transaction=True)
def test_8_workers_claiming_one_creation_at_once_leave_one_claim(creator, make_creation):
    pending = make_creation(owner=creator, status="pending")

    claims = run_at_once([lambda: creation_claim(creation_id=pending.id)] * 8)

    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    assert (winners[0].status, winners[0].attempts) == ("processing", 1)
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("processing", 1)
    assert pending.processing_at == winners[0].processing_at


@pytest.mark.django_db(transaction=True)
def test_20_parallel_creates_against_an_in_flight_limit_of_5_accept_exactly_5(creator, settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 5

    outcomes = race_creates(creator, [{"type": "image", "prompt": f"fox {i}"} for i in range(20)])

    statuses = sorted(status for _, status in outcomes)
    assert statuses == [202] * 5 + [429] * 15
    assert Creation.objects.filter(owner=creator, status="pending").count() == 5
    assert len(queued_job_ids()) == 5
    creator.token_account.refresh_from_db()
    assert creator.token_account.balance == 20
    assert ledger_discrepancies() == []
