"""Bearer keys on the JSON API: no CSRF for a key (a cookie still needs it), scopes, the
key's own request window, and the owner's limits, which a key never passes."""

import json

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from apikeys.middleware import ApiKeyMiddleware
from creations.models import Creation
from tests.security.conftest import database_fingerprint
from tokens.services import account_grant

from .conftest import bearer

CREATE = json.dumps({"type": "image", "prompt": "a lighthouse at dusk"})


def create(client):
    return client.post("/api/generate/creation", CREATE, content_type="application/json")


def test_bearer_without_csrf_passes_where_a_cookie_without_csrf_fails(
    alice, make_key, django_capture_on_commit_callbacks
):
    cookie = Client(enforce_csrf_checks=True)
    cookie.force_login(alice)
    before = database_fingerprint()
    refused = create(cookie)
    assert refused.status_code == 403 and b"CSRF" in refused.content
    assert database_fingerprint() == before

    with django_capture_on_commit_callbacks(execute=True):
        answer = create(bearer(make_key(alice)))
    assert answer.status_code == 202, answer.content
    assert Creation.objects.get(pk=answer.json()["creation_id"]).owner == alice


def test_a_key_with_a_session_cookie_acts_as_the_keys_owner(alice, bob, make_key, make_creation):
    """The key decides who acts; the cookie riding along does not."""
    hers = make_creation(owner=alice, status="draft")
    client = bearer(make_key(alice))
    client.force_login(bob)
    assert client.get(f"/api/creations/{hers.id}").status_code == 200
    assert client.get("/api/keys").status_code == 403  # a key, even beside a session


@pytest.mark.parametrize(
    ("scopes", "method", "url", "needed"),
    [
        (["read"], "post", "/api/generate/creation", "create"),
        (["create"], "get", "/api/tokens/balance", "read"),
        (["create", "read"], "post", "/api/creations/{id}/publish", "publish"),
        (["publish"], "post", "/api/creations/{id}/cancel", "create"),
        (["read"], "post", "/api/creations/bulk", "publish"),
    ],
)
def test_a_missing_scope_is_a_403_that_changes_nothing(
    alice, make_key, make_creation, scopes, method, url, needed
):
    draft = make_creation(owner=alice, status="draft")
    client = bearer(make_key(alice, scopes=scopes))
    before = database_fingerprint()
    answer = client.generic(
        method.upper(),
        url.format(id=draft.id),
        CREATE if "generate" in url else "{}",
        content_type="application/json",
    )
    assert answer.status_code == 403, answer.content
    assert answer.json() == {
        "error": "insufficient_scope",
        "message": f"This API key does not hold the '{needed}' scope.",
        "scope": needed,
    }
    assert f'scope="{needed}"' in answer["WWW-Authenticate"]
    assert database_fingerprint() == before


def test_a_bulk_cancel_needs_the_create_scope(alice, make_key, make_creation):
    pending = make_creation(owner=alice, status="pending")
    body = json.dumps({"action": "cancel", "ids": [str(pending.id)]})
    publish_only = bearer(make_key(alice, scopes=["publish"]))
    answer = publish_only.post("/api/creations/bulk", body, content_type="application/json")
    assert answer.status_code == 403 and answer.json()["scope"] == "create"
    pending.refresh_from_db()
    assert pending.status == "pending"
    both = bearer(make_key(alice, scopes=["publish", "create"]))
    done = both.post("/api/creations/bulk", body, content_type="application/json")
    assert done.json()["results"] == {str(pending.id): "ok"}


def test_two_keys_have_independent_windows(alice, make_key, settings):
    settings.PHOENIX_API_KEY_REQUESTS = 3
    first, second = bearer(make_key(alice)), bearer(make_key(alice))
    answers = [first.get("/api/tokens/balance") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
    assert all(a["x-ratelimit-limit"] == "3" for a in answers)
    assert 0 < int(answers[0]["x-ratelimit-reset"]) <= settings.PHOENIX_API_KEY_WINDOW
    limited = first.get("/api/tokens/balance")
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert 0 < int(limited["Retry-After"]) <= settings.PHOENIX_API_KEY_WINDOW
    assert limited["x-ratelimit-remaining"] == "0"
    # The other key's window is its own.
    other = second.get("/api/tokens/balance")
    assert other.status_code == 200 and other["x-ratelimit-remaining"] == "2"


def test_a_rate_limited_create_debits_nothing(alice, make_key, settings):
    settings.PHOENIX_API_KEY_REQUESTS = 1
    client = bearer(make_key(alice))
    client.get("/api/tokens/balance")
    before = database_fingerprint()
    assert create(client).status_code == 429
    assert database_fingerprint() == before


def test_a_key_cannot_pass_its_owners_in_flight_limit(
    alice, make_key, settings, django_capture_on_commit_callbacks
):
    settings.PHOENIX_MAX_IN_FLIGHT = 2
    account_grant(user=alice, amount=100, reason="test")
    session = Client()
    session.force_login(alice)
    key_a, key_b = bearer(make_key(alice)), bearer(make_key(alice))
    with django_capture_on_commit_callbacks(execute=True):
        assert create(session).status_code == 202
        assert create(key_a).status_code == 202
        refused = create(key_b)
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_in_flight"
    assert refused.json()["limit"] == 2
    assert Creation.objects.filter(owner=alice).count() == 2


def test_a_key_cannot_spend_beyond_its_owners_balance(alice, make_key, settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    alice.token_account.refresh_from_db()
    alice.token_account.__class__.objects.filter(pk=alice.token_account.pk).update(balance=0)
    answer = create(bearer(make_key(alice)))
    assert answer.status_code == 402 and answer.json()["error"] == "insufficient_tokens"
    assert not Creation.objects.exists()


def test_the_session_path_costs_no_query_in_the_key_middleware(alice):
    """The Bearer check adds no SQL to a request that has no Bearer header."""
    request = RequestFactory().get("/api/tokens/balance")
    request.user = alice
    middleware = ApiKeyMiddleware(lambda request: "answered")
    with CaptureQueriesContext(connection) as queries:
        assert middleware(request) == "answered"
    assert len(queries) == 0


def test_other_authorization_schemes_and_other_paths_are_left_alone(alice):
    client = Client(headers={"Authorization": "Basic YWxpY2U6eA=="})
    client.force_login(alice)
    assert client.get("/api/tokens/balance").status_code == 200
    page = Client(headers={"Authorization": "Bearer phx_not_a_key"}).get("/create")
    assert page.status_code == 302  # the log-in page, as without the header


def test_a_key_with_read_downloads_its_owners_draft_media(alice, bob, make_key, make_creation):
    draft = make_creation(owner=alice, status="draft", kind="video")
    url = f"/media/creations/{draft.id}/media"
    assert bearer(make_key(alice, scopes=["read"])).get(url).status_code == 200
    no_read = bearer(make_key(alice, scopes=["create"])).get(url)
    assert no_read.status_code == 403 and no_read.json()["scope"] == "read"
    assert bearer(make_key(bob, scopes=["read"])).get(url).status_code == 404
    assert bearer("phx_" + "0" * 36).get(url).status_code == 401
