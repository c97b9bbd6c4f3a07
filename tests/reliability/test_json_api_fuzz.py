"""Every JSON operation (each one the generated OpenAPI document lists) and /metrics, fuzzed with
bodies spelled with every escape JSON has (NUL and the other controls, lone and paired
surrogates, \\u2028, the short escapes) and with strange header values (Authorization,
Content-Type, the client-address header the throttles read, HTX headers): never a 5xx,
and a 4xx changes nothing."""

import os

import pytest
from django.apps import apps
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.security.conftest import api_operations, database_fingerprint, project_routes

# PHOENIX_FUZZ_CASES (with HYPOTHESIS_PROFILE=explore) for a longer hunt before landing.
CASES = int(os.environ.get("PHOENIX_FUZZ_CASES", "400"))
OPERATIONS = api_operations()
ROUTES = list({operation.route: None for operation in OPERATIONS})
ROUTES += [r for r in project_routes() if r.route == "metrics"]
# Each JSON route's methods, as the document declares them.
DECLARED: dict = {}
for _operation in OPERATIONS:
    DECLARED[_operation.route] = sorted(
        {m.upper() for m in (o.method for o in OPERATIONS if o.route == _operation.route)}
    )
FIELDS = [
    "type",
    "prompt",
    "aspect_ratio",
    "orientation",
    "idempotency_key",
    "caption",
    "publish_at",
    "action",
    "ids",
    "username",
    "link",
    "expires_at",
    "text",
    "all",
]
# Every escape JSON's grammar allows inside a string, and the code points that trouble
# databases, encoders and parsers.
ESCAPES = [
    "\\u0000",
    "\\u0001",
    "\\u001f",
    "\\u007f",
    "\\ud800",
    "\\udfff",
    "\\udbff\\udfff",
    "\\ud83e\\udd8a",
    "\\b",
    "\\f",
    "\\n",
    "\\r",
    "\\r\\n",
    "\\t",
    '\\"',
    "\\\\",
    "\\/",
    "\\u2028",
    "\\u2029",
    "\\ufeff",
    "\\uffff",
    "\\u00e9",
    "\\u0301",
]
plain_text = st.text(
    alphabet=st.characters(exclude_characters='"\\', exclude_categories=("Cs", "Cc")),
    max_size=6,
)
json_string = st.lists(st.sampled_from(ESCAPES) | plain_text, max_size=10).map(
    lambda parts: '"' + "".join(parts) + '"'
)
long_string = st.integers(990, 2300).map(lambda n: '"' + "\\r\\n" * (n // 2) + '"')
json_scalar = (
    json_string
    | long_string
    | st.sampled_from(
        ["null", "true", "false", "0", "-1", "1e309", "123456789012345678901234567890", "1.5"]
    )
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    max_leaves=4,
)


@st.composite
def json_bodies(draw) -> bytes:
    """A JSON object whose keys are mostly the API's field names, spelled with escapes."""
    members = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(FIELDS).map(lambda name: f'"{name}"') | json_string)
        members.append(f"{key}: {draw(json_value)}")
    text = "{" + ", ".join(members) + "}"
    return text.encode("utf-8", "surrogatepass")


# What a WSGI server can hand over in a header: latin-1, one byte per character.
header_value = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40) | st.sampled_from(
    ["Bearer ", "Bearer \x00", "::1", "2001:db8::1, 10.0.0.1", "1.2.3.4.5", "[::1]:80", "%00"]
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": header_value,
        "X-Forwarded-For": header_value,
        "HX-Request": header_value,
        "HX-Current-URL": header_value,
        "Accept": header_value,
        "Idempotency-Key": header_value,
    },
)
content_types = st.sampled_from(
    ["application/json"] * 6
    + ["application/json; charset=latin-1", "text/plain", "application/x-www-form-urlencoded"]
)


def url_for(route, draw_uuid, draw_text) -> str:
    values = {}
    for converter, name in route.parameters:
        values[name] = draw_uuid(name) if converter == "uuid" else draw_text()
    return route.fill(values)


def fingerprint() -> tuple:
    """database_fingerprint() and the row count of every table of Phoenix's own apps."""
    ours = ("creations", "tokens", "profiles", "ops", "sharing", "notifications", "apikeys")
    counts = tuple(
        (model._meta.label, model.objects.count())
        for model in apps.get_models()
        if model._meta.app_label in ours and model._meta.managed
    )
    return database_fingerprint(), counts


@pytest.mark.django_db
def test_every_json_endpoint_fuzzed_with_every_json_escape_and_strange_headers_gives_no_5xx(
    alice, bob, make_creation, settings_fixture, django_capture_on_commit_callbacks, figure
):
    ids = [
        str(make_creation(owner=alice, status=status).id)
        for status in ("draft", "published", "pending", "failed")
    ]
    ids.append(str(make_creation(owner=bob, status="draft").id))
    clients = {"alice": Client(), "anonymous": Client()}
    clients["alice"].force_login(alice)
    statuses: dict[int, int] = {}
    assert ROUTES, "no JSON endpoint found in the URLconf"

    # Each endpoint's declared methods (mostly those are fuzzed; a method it refuses now
    # and then), which are the ones its 405 allows.
    allowed = {}
    for route in ROUTES:
        probe = url_for(route, lambda name: ids[0], lambda: "x")
        answer = clients["alice"].generic("TRACE", probe)
        methods = [m.strip() for m in answer.get("Allow", "").split(",") if m.strip()]
        allowed[route] = sorted(set(methods) - {"HEAD", "OPTIONS"}) or ["GET", "POST"]
        if route in DECLARED:
            assert allowed[route] == DECLARED[route], (route, methods)

    @settings(
        max_examples=CASES,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(
        route=st.sampled_from(ROUTES),
        refused_method=st.sampled_from([False] * 9 + [True]),
        body=json_bodies(),
        content_type=content_types,
        extra_headers=headers,
        who=st.sampled_from(["alice"] * 9 + ["anonymous"]),
        data=st.data(),
    )
    @example(
        route=next(r for r in ROUTES if r.route == "api/generate/creation"),
        refused_method=False,
        body=b'{"type": "image", "prompt": "\\ud800"}',
        content_type="application/json",
        extra_headers={"X-Forwarded-For": "2001:db8::1"},
        who="alice",
        data=None,
    )
    def check(route, refused_method, body, content_type, extra_headers, who, data):
        if data is None:
            method = "POST"
        elif refused_method:
            method = data.draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]))
        else:
            method = data.draw(st.sampled_from(allowed[route]))

        def draw_uuid(name):
            if data is None:
                return ids[0]
            choices = st.sampled_from(ids) if name == "creation_id" else st.nothing()
            return data.draw(choices | st.uuids().map(str))

        def draw_text():
            return "x" if data is None else data.draw(st.text(min_size=1, max_size=8))

        url = url_for(route, draw_uuid, draw_text)
        before = fingerprint()
        with django_capture_on_commit_callbacks(execute=True):
            response = clients[who].generic(
                method, url, body, content_type=content_type, headers=extra_headers
            )
        status = response.status_code
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (status, method, url, body, extra_headers, response.content[:300])
        if 400 <= status < 500:
            assert fingerprint() == before, (status, method, url, body)

    check()
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)
    figure(
        f"{sum(statuses.values())} fuzzed requests over {len(ROUTES)} JSON endpoints and "
        "/metrics (every JSON string escape, strange header values): 0 5xx; "
        + ", ".join(f"{count}×{status}" for status, count in sorted(statuses.items()))
        + "; nothing changed for any 4xx"
    )


@pytest.fixture
def settings_fixture(settings):
    # The throttles read the client address from a header the fuzz sets (as behind a proxy).
    settings.PHOENIX_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    return settings


def test_the_route_list_holds_every_api_url():
    names = {route.name for route in ROUTES}
    assert {"generate_creation", "creation_status", "prometheus_metrics"} <= names
