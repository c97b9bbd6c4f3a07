"""The wait a card promises against what really happens: a real `rqworker` (the Procfile's
worker class) runs creations on the local provider with a known latency
(PHOENIX_LOCAL_PROVIDER_DELAY), first enough of them to make a history, then a queue of
several at once; each card's estimate, read as the drafts tab reads it the moment they
are queued, is compared with when each really became a draft.

The stated error: what is promised (the upper bound the label is made from) is never
exceeded by more than PICKUP_SLACK per job ahead — the worker's pause between one job and
the next (its dequeue and fork), which the runs themselves do not include — and the mean
estimate is within MEAN_ERROR of the real wait, give or take that same slack."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from rq import Worker

from creations import queues, selectors, services
from creations.models import Creation
from creations.presenters import wait_label
from creations.validation import CreationRequest
from tests.conftest import start_worker, stop_worker, wait_for

DELAY = 1.5  # the provider's latency, in seconds
HISTORY = selectors.SURE_AFTER_RUNS
QUEUED = 4
PICKUP_SLACK = 1.5  # seconds per job, between one job's end and the next one's start
MEAN_ERROR = 0.5  # the mean estimate within ±50 % of the real wait (plus the slack)


def submit(owner, prompt: str) -> Creation:
    return services.creation_submit(
        user=owner, request=CreationRequest("image", prompt, "1:1", "")
    )[0]


def drafted(creation: Creation) -> bool:
    return Creation.objects.filter(pk=creation.pk, status=Creation.Status.DRAFT).exists()


@pytest.mark.django_db(transaction=True)
def test_the_promised_wait_holds_against_a_provider_of_known_latency(alice, figure):
    worker = start_worker(PHOENIX_LOCAL_PROVIDER_DELAY=str(DELAY))
    try:
        connection = queues.get_queue("images").connection
        wait_for(lambda: Worker.all(connection=connection), what="the worker registered")
        for n in range(HISTORY):
            made = submit(alice, f"history {n}")
            wait_for(lambda made=made: drafted(made), timeout=60, what="a history run")

        # As a fresh drafts tab would read them: no cached runs or workers.
        cache.clear()
        selectors.forget_remembered()
        queued = [submit(alice, f"queued {n}") for n in range(QUEUED)]
        read_at = timezone.now()
        estimates = {
            c.pk: c.wait
            for c in selectors.with_queue_estimates(
                [selectors.card_for_owner(owner=alice, creation_id=c.pk) for c in queued]
            )
        }
        for made in queued:
            wait_for(lambda made=made: drafted(made), timeout=120, what="a queued run")
    finally:
        stop_worker(worker)

    rows = []
    checked = 0
    for place, made in enumerate(queued):
        estimate = estimates[made.pk]
        if estimate is None and place == 0:
            continue  # the worker had already finished the first one when it was read
        assert estimate is not None and estimate.sure, (place, estimate)
        checked += 1
        actual = (Creation.objects.get(pk=made.pk).draft_at - read_at).total_seconds()
        slack = PICKUP_SLACK * (place + 1)
        # Never later than promised, but for the worker's pauses between jobs.
        assert actual <= estimate.upper + slack, (place, actual, estimate)
        # The label is made from the bound and rounds up: it promises no less.
        assert estimate.label == wait_label(estimate.upper, sure=True)
        # The mean is near what happened.
        assert abs(actual - estimate.seconds) <= MEAN_ERROR * actual + slack, (
            place,
            actual,
            estimate,
        )
        rows.append(
            f"#{place + 1}: estimate {estimate.seconds:.1f}s (≤{estimate.upper:.1f}s, "
            f"{estimate.label}), actual {actual:.1f}s"
        )
    assert checked >= QUEUED - 1
    figure(f"honest wait, provider latency {DELAY:.1f}s: " + "; ".join(rows))
