"""Many creates at once against a balance that covers only some: never overspent."""

import pytest

from creations.models import Creation
from tests.conftest import queued_job_ids, staff_adjust
from tests.conftest import race_creates as race

from .conftest import balance

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 3
COSTS = {"image": 1, "video": 10}


@pytest.fixture(autouse=True)
def no_in_flight_limit(settings):
    """These rounds leave up to 75 creations pending: only the balance may stop a create."""
    settings.PHOENIX_MAX_IN_FLIGHT = 0


def top_up_to(user, amount: int) -> None:
    current = balance(user)
    if current != amount:
        staff_adjust(user=user, amount=amount - current, reason="race round")


def test_40_concurrent_image_creates_against_25_tokens_3_rounds_accept_exactly_25(creator, figure):
    accepted_per_round = []
    for round_number in range(ROUNDS):
        top_up_to(creator, 25)
        before = Creation.objects.filter(owner=creator).count()
        jobs_before = len(queued_job_ids())
        outcomes = race(
            creator, [{"type": "image", "prompt": f"fox {round_number}-{i}"} for i in range(40)]
        )
        statuses = sorted(status for _, status in outcomes)
        assert statuses == [202] * 25 + [402] * 15, f"round {round_number}: {statuses}"
        assert balance(creator) == 0
        assert Creation.objects.filter(owner=creator).count() - before == 25
        assert len(queued_job_ids()) - jobs_before == 25
        accepted_per_round.append(statuses.count(202))
    figure(
        f"{ROUNDS}/{ROUNDS} rounds of 40 creates against 25 tokens: accepted "
        f"{accepted_per_round}, refused {[40 - a for a in accepted_per_round]}, "
        "0 overspent"
    )


def test_40_concurrent_mixed_image_and_video_creates_against_25_tokens_never_overspend(
    creator, figure
):
    summaries = []
    for round_number in range(ROUNDS):
        top_up_to(creator, 25)
        before = set(Creation.objects.filter(owner=creator).values_list("pk", flat=True))
        bodies = [
            {"type": "video", "prompt": f"wave {round_number}-{i}"}
            if i % 4 == 0
            else {"type": "image", "prompt": f"fox {round_number}-{i}"}
            for i in range(40)
        ]
        outcomes = race(creator, bodies)

        made = Creation.objects.filter(owner=creator).exclude(pk__in=before)
        spent = sum(made.values_list("cost", flat=True))
        left = balance(creator)
        accepted = [kind for kind, status in outcomes if status == 202]
        refused = [kind for kind, status in outcomes if status == 402]
        assert len(accepted) + len(refused) == 40, outcomes
        assert len(accepted) == made.count()
        assert left == 25 - spent >= 0
        # The balance only falls, so each refusal was for a cost the final balance can't pay.
        assert all(left < COSTS[kind] for kind in refused), (left, refused)
        summaries.append(
            f"{accepted.count('video')}v+{accepted.count('image')}i accepted, {left} left"
        )
    figure(f"{ROUNDS}/{ROUNDS} mixed rounds never overspent: " + "; ".join(summaries))
