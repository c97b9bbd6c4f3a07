"""Cancel against everything else that may end a creation at the same moment: another
cancel, the claim, the completion, the recovery pass and a staff refund. Real threads,
each with its own database connection, started together; 20 rounds each. Whatever the
interleaving, exactly one of draft / canceled / failed wins, with one refund at most.

Two callers started together do not race evenly: the shorter one nearly always wins. So
the rounds sweep the start of the cancel from well before the other side to well after
it, and both orders happen for certain at the ends, true ties in the middle."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from creations import services
from creations.jobs import generation, recovery
from creations.models import Creation
from creations.providers import GeneratedMedia
from creations.services import ActionRefused
from tests.conftest import run_at_once

from .conftest import (
    balance,
    files_in,
    invariant_violations,
    past_deadline,
    refunds,
    submit,
)
from .providers import TINY_PNG

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 20
FINAL = {Creation.Status.DRAFT, Creation.Status.CANCELED, Creation.Status.FAILED}


def sweep(spread: float) -> list[float]:
    """One offset a round, from -spread (the cancel starts `spread` seconds first) to
    +spread (the other side starts first)."""
    return [spread * (2 * index / (ROUNDS - 1) - 1) for index in range(ROUNDS)]


def after(delay: float, call: Callable[[], object]) -> Callable[[], object]:
    def delayed():
        if delay > 0:
            time.sleep(delay)
        return call()

    return delayed


def fresh(creation: Creation) -> Creation:
    """A copy of its own for each thread: the services write the outcome into the copy."""
    return Creation.objects.get(pk=creation.pk)


def cancel(creation: Creation) -> str:
    try:
        services.creation_cancel(creation=creation)
    except ActionRefused as refusal:
        return refusal.code
    return "canceled"


def canceler(creation: Creation, *, delay: float = 0) -> Callable[[], str]:
    copy = fresh(creation)
    return after(delay, lambda: cancel(copy))


def processing(user) -> Creation:
    creation = submit(user)
    assert services.creation_claim(creation_id=creation.id) is not None
    return fresh(creation)


def assert_settled(creation: Creation, *, start_balance: int, drafts: int) -> str:
    """One final status, one refund at most (exactly one when it ended without media), the
    money right (balance is the ledger's sum, never negative). Returns the final status."""
    creation.refresh_from_db()
    assert creation.status in FINAL, creation.status
    assert refunds(creation) == (0 if creation.status == Creation.Status.DRAFT else 1)
    assert balance(creation.owner) == start_balance - drafts * creation.cost
    problems = invariant_violations()
    assert not problems, problems
    return creation.status


def test_8_cancels_at_once_20_rounds_exactly_one_wins_with_one_refund(creator, figure):
    start = balance(creator)
    winners = Counter()
    for round_number in range(ROUNDS):
        # Half the rounds while queued, half while generating.
        creation = submit(creator) if round_number % 2 else processing(creator)
        results = run_at_once([canceler(creation) for _ in range(8)])

        assert sorted(results) == ["canceled"] + ["not_cancelable"] * 7, results
        assert assert_settled(creation, start_balance=start, drafts=0) == "canceled"
        winners[results.index("canceled")] += 1
    figure(
        f"{ROUNDS}/{ROUNDS} rounds of 8 cancels at once ended canceled: 1 winner and 7 "
        f"not_cancelable each, 1 refund each (winning thread: {dict(sorted(winners.items()))})"
    )


def test_cancel_at_the_moment_of_the_claim_20_rounds_always_ends_canceled_once(creator, figure):
    start = balance(creator)
    claimed_first = 0
    for offset in sweep(0.01):
        creation = submit(creator)
        claim, canceled = run_at_once(
            [
                after(-offset, lambda c=creation: services.creation_claim(creation_id=c.id)),
                canceler(creation, delay=offset),
            ]
        )

        # Claimed first: the cancel stops a processing creation. Canceled first: the claim
        # finds nothing to claim. Canceled and refunded once either way.
        assert canceled == "canceled"
        assert assert_settled(creation, start_balance=start, drafts=0) == "canceled"
        creation.refresh_from_db()
        if claim is not None:
            claimed_first += 1
            assert (creation.attempts, creation.processing_at) == (1, claim.processing_at)
        else:
            assert (creation.attempts, creation.processing_at) == (0, None)
        # A delivery of its job after it all does nothing.
        assert generation.creation_generate(creation_id=creation.id) == "not_claimed"
    figure(
        f"{ROUNDS}/{ROUNDS} cancel-vs-claim rounds ended canceled with 1 refund "
        f"(claim first {claimed_first}, cancel first {ROUNDS - claimed_first}); "
        f"{ROUNDS} later deliveries not_claimed"
    )


class AnswersAtTheGate:
    """A generator that lets the racing cancel go the moment it answers, then waits
    `delay` before the job goes on to store the files and complete."""

    answered = threading.Event()
    delay = 0.0

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        AnswersAtTheGate.answered.set()
        if AnswersAtTheGate.delay > 0:
            time.sleep(AnswersAtTheGate.delay)
        return GeneratedMedia(TINY_PNG, "png", "image/png", 8, 8)


def cancel_when_answered(creation: Creation, *, delay: float) -> Callable[[], str]:
    copy = fresh(creation)

    def run() -> str:
        assert AnswersAtTheGate.answered.wait(timeout=10)
        if delay > 0:
            time.sleep(delay)
        return cancel(copy)

    return run


def test_cancel_at_the_moment_of_completion_20_rounds_one_of_draft_or_canceled(
    creator, settings, private_media, figure
):
    settings.PHOENIX_IMAGE_PROVIDER = f"{__name__}:AnswersAtTheGate"
    start = balance(creator)
    outcomes = Counter()
    drafts = 0
    for offset in sweep(0.01):
        AnswersAtTheGate.answered.clear()
        AnswersAtTheGate.delay = max(0.0, -offset)
        creation = submit(creator)
        job, canceled = run_at_once(
            [
                lambda c=creation: generation.creation_generate(creation_id=c.id),
                cancel_when_answered(creation, delay=offset),
            ]
        )

        drafts += job == "draft"
        status = assert_settled(creation, start_balance=start, drafts=drafts)
        creation.refresh_from_db()
        if status == "draft":
            assert (job, canceled) == ("draft", "not_cancelable")
            assert (private_media / creation.media.name).is_file()
        else:
            assert (job, canceled, status) == ("discarded", "canceled", "canceled")
            assert (creation.media.name, creation.draft_at) == ("", None)
        outcomes[status] += 1
        # Only the drafts' files are kept: a canceled completion's files were deleted.
        kept = {
            Path(private_media) / name
            for name in Creation.objects.filter(status="draft").values_list("media", flat=True)
        }
        assert files_in(private_media) == kept
    figure(
        f"{ROUNDS}/{ROUNDS} cancel-vs-completion rounds ended once: {outcomes['draft']} draft "
        f"(cancel refused, 0 refund), {outcomes['canceled']} canceled (result discarded, its "
        "files deleted, 1 refund); 0 orphan files"
    )


def test_cancel_against_recovery_failing_it_20_rounds_one_of_canceled_or_failed(creator, figure):
    start = balance(creator)
    outcomes = Counter()
    for offset in sweep(0.02):
        creation = processing(creator)
        overdue = past_deadline(creation)  # the recovery pass judges it lost
        recovered, canceled = run_at_once(
            [
                after(-offset, lambda now=overdue: recovery.creations_recover(now=now)),
                canceler(creation, delay=offset),
            ]
        )

        status = assert_settled(creation, start_balance=start, drafts=0)
        if status == "failed":
            assert (recovered["failed"], canceled) == (1, "not_cancelable")
            assert Creation.objects.get(pk=creation.pk).error_code == "worker_lost"
        else:
            assert (recovered["failed"], canceled) == (0, "canceled")
        outcomes[status] += 1
    figure(
        f"{ROUNDS}/{ROUNDS} cancel-vs-recovery rounds ended once: {outcomes['canceled']} "
        f"canceled, {outcomes['failed']} failed (worker_lost); 1 refund each"
    )


def test_cancel_against_a_staff_refund_20_rounds_one_of_canceled_or_failed(creator, figure):
    start = balance(creator)
    outcomes = Counter()
    for round_number, offset in enumerate(sweep(0.01)):
        creation = submit(creator) if round_number % 2 else processing(creator)
        staff_copy = fresh(creation)
        staff_failed, canceled = run_at_once(
            [
                after(
                    -offset,
                    lambda c=staff_copy: services.creation_fail(creation=c, code="staff_refund"),
                ),
                canceler(creation, delay=offset),
            ]
        )

        status = assert_settled(creation, start_balance=start, drafts=0)
        if status == "failed":
            assert (staff_failed, canceled) == (True, "not_cancelable")
            assert Creation.objects.get(pk=creation.pk).error_code == "staff_refund"
        else:
            assert (staff_failed, canceled) == (False, "canceled")
        outcomes[status] += 1
    figure(
        f"{ROUNDS}/{ROUNDS} cancel-vs-staff-refund rounds ended once: {outcomes['canceled']} "
        f"canceled, {outcomes['failed']} failed (staff_refund); 1 refund each"
    )
