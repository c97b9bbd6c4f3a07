"""The headers a handler reads itself — Authorization on /metrics, /readyz and the queue
dashboard, Range on media — fuzzed with what a WSGI server can hand over (any latin-1
character, numbers of any length): never a 5xx."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from creations import queues
from tests.creations.test_media import media_of

DASHBOARD_JSON = "/admin/django_rq/dashboard/stats.json"
latin1 = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40)
authorization = st.one_of(
    latin1,
    latin1.map(lambda token: f"Bearer {token}"),
    st.sampled_from(["Bearer", "bearer  ", "Bearer \x00", "Basic é"]),
)
digits = st.integers(0, 6000).map(lambda n: "9" * n)
range_header = st.one_of(
    latin1,
    st.tuples(digits, digits).map(lambda pair: f"bytes={pair[0]}-{pair[1]}"),
    digits.map(lambda number: f"bytes=-{number}"),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def operator_client(db, settings):
    settings.RQ_API_TOKEN = "the-dashboard-token"
    user = get_user_model().objects.create_user(username="staffer", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_authorization_headers_never_answer_5xx(operator_client, settings):
    settings.PHOENIX_METRICS_TOKEN = "the-metrics-token"
    queues.reset()
    anonymous = Client()

    @FUZZ
    @given(header=authorization)
    @example(header="Bearer é")  # compare_digest raised on a non-ASCII str: a 500
    @example(header="Bearer the-metrics-token")
    def check(header):
        for client, path in (
            (anonymous, "/metrics"),
            (anonymous, "/readyz"),
            (operator_client, DASHBOARD_JSON),
        ):
            response = client.get(path, headers={"Authorization": header})
            assert response.status_code < 500, (path, header, response.status_code)

    check()
    right = {"Authorization": "Bearer the-metrics-token"}
    assert anonymous.get("/metrics", headers=right).status_code == 200
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer é"}).status_code == 403


def test_range_headers_never_answer_5xx(alice, make_creation):
    client = Client()
    client.force_login(alice)
    video = make_creation(owner=alice, kind="video", status="draft")
    with open(default_storage.path(video.media.name), "wb") as handle:
        handle.write(bytes(range(256)) * 4)

    @FUZZ
    @given(header=range_header)
    @example(header="bytes=" + "9" * 5000 + "-")  # int() of 5,000 digits raised: a 500
    @example(header="bytes=-" + "9" * 5000)
    def check(header):
        response = client.get(media_of(video), headers={"Range": header})
        assert response.status_code < 500, (header[:40], response.status_code)

    check()
    too_long = client.get(media_of(video), headers={"Range": "bytes=" + "9" * 5000 + "-"})
    assert too_long.status_code == 400
    assert b"Range" in too_long.content
    assert client.get(media_of(video), headers={"Range": "bytes=0-9"}).status_code == 206
