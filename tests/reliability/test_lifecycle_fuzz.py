"""Property-based fuzzing of the lifecycle endpoints (publish, caption, bulk): whatever
body arrives, never a 5xx, and a 4xx changes nothing — no row, no ledger entry, no job."""

import json
import os

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from creations.models import Creation
from tests.conftest import queued_job_ids
from tokens.models import LedgerEntry

# PHOENIX_FUZZ_CASES (with HYPOTHESIS_PROFILE=explore) for a longer hunt before landing.
CASES = int(os.environ.get("PHOENIX_FUZZ_CASES", "300"))
ACTIONS = ["publish", "trash", "restore", "cancel", "purge"]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    # Every code point, lone surrogates and controls included: json.dumps writes each as the
    # escape JSON has for it (\u0000, \ud800, \n, ...).
    | st.text(alphabet=st.characters(exclude_categories=()), max_size=20)
    | st.sampled_from(
        ["\x00", "\ud800", "2026-13-01T00:00+01:00", "0001-01-01T00:00+01:00", "+99:99", "x" * 2300]
    )
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
times = st.one_of(
    json_values,
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["2030-01-01T10:00+05:30", "2026-12-01T14:00Z", "2026-12-01T14:00"]),
)


@st.composite
def bodies(draw, ids: list[str]) -> tuple[str, bytes]:
    """(endpoint, raw body): mostly plausible JSON, sometimes strange, sometimes not JSON."""
    endpoint = draw(st.sampled_from(["publish", "caption", "bulk"]))
    body: dict = {}
    if endpoint == "bulk":
        body["action"] = draw(st.sampled_from(ACTIONS) | json_values)
        body["ids"] = draw(
            st.lists(st.sampled_from(ids) | st.uuids().map(str), max_size=4) | json_values
        )
    if draw(st.booleans()):
        body["caption"] = draw(st.text(max_size=40) | json_values)
    if endpoint == "publish" and draw(st.booleans()):
        body["publish_at"] = draw(times)
    if draw(st.sampled_from([False] * 9 + [True])):
        body[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    raw = json.dumps(body).encode()
    if draw(st.sampled_from([False] * 9 + [True])):
        raw = draw(st.binary(max_size=60))
    return endpoint, raw


def snapshot() -> tuple:
    return (
        sorted(Creation.objects.values_list("id", "status", "caption", "publish_at", "trashed_at")),
        LedgerEntry.objects.count(),
        len(queued_job_ids()),
    )


@pytest.mark.django_db
def test_fuzzed_lifecycle_requests_give_no_5xx_and_a_4xx_changes_nothing(
    alice, make_creation, django_capture_on_commit_callbacks, figure
):
    drafts = [str(make_creation(owner=alice, status="draft").id) for _ in range(2)]
    post = str(make_creation(owner=alice, status="published", caption="kept").id)
    ids = [*drafts, post]
    client = Client()
    client.force_login(alice)
    statuses: dict[int, int] = {}

    @settings(
        max_examples=CASES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=bodies(ids), target=st.sampled_from(ids))
    @example(request=("publish", b'{"publish_at": "0001-01-01T00:00+01:00"}'), target=post)
    @example(request=("publish", b'{"caption": "\\ud800"}'), target=post)
    def check(request, target):
        endpoint, raw = request
        url = "/api/creations/bulk" if endpoint == "bulk" else f"/api/creations/{target}/{endpoint}"
        before = snapshot()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, raw, content_type="application/json")
        status = response.status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (status, url, raw, response.content[:300])
        if 400 <= status < 500:
            assert snapshot() == before, (status, url, raw)

    check()
    assert statuses.get(200, 0) > 0 and any(400 <= s < 500 for s in statuses)
    figure(
        f"{sum(statuses.values())} fuzzed lifecycle requests (publish, caption, bulk): 0 5xx; "
        + ", ".join(f"{count}×{status}" for status, count in sorted(statuses.items()))
        + "; nothing changed for any 4xx"
    )
