"""The JSON API of webhooks: POST /api/webhooks → 201 {"id", "secret"}, list, delete,
rotate, enable, GET …/deliveries, resend; refusals with their code, nothing made."""

import json

import pytest
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import PUBLIC_ADDRESS

pytestmark = pytest.mark.django_db


def post(client, url, data=None):
    return client.post(url, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def public_name(resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    return "https://hooks.example.com/in"


def test_create_answers_201_with_the_secret_once(alice, alice_client, public_name):
    response = post(
        alice_client, "/api/webhooks", {"url": public_name, "events": ["creation.finished"]}
    )
    assert response.status_code == 201
    created = response.json()
    endpoint = WebhookEndpoint.objects.get(owner=alice)
    assert created["id"] == str(endpoint.pk)
    assert created["secret"] == endpoint.secret and created["secret"].startswith("whsec_")
    assert created["events"] == ["creation.finished"] and created["enabled"] is True
    [listed] = alice_client.get("/api/webhooks").json()["webhooks"]
    assert listed["id"] == created["id"] and listed["secret"] is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://127.0.0.1/hook", "not_public"),
        ("https://10.0.0.8/hook", "not_public"),
        ("https://169.254.169.254/latest/meta-data/", "not_public"),
        ("https://[::1]/hook", "not_public"),
        ("http://hooks.example.com/in", "https_required"),
        ("no url", "invalid_url"),
    ],
)
def test_a_refused_url_is_a_400_with_the_reason_and_nothing_made(alice_client, resolver, url, code):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    response = post(alice_client, "/api/webhooks", {"url": url, "events": ["tokens.low"]})
    assert response.status_code == 400
    assert response.json()["error"] == code and response.json()["field"] == "url"
    assert response.json()["message"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"url": "https://hooks.example.com/in", "events": []}, "invalid_events"),
        ({"url": "https://hooks.example.com/in", "events": ["creation.done"]}, "invalid_events"),
        ({"url": "https://hooks.example.com/in", "events": "tokens.low"}, "invalid_events"),
        (
            {"url": "https://hooks.example.com/in", "events": ["tokens.low"], "x": 1},
            "unknown_field",
        ),
        ({"events": ["tokens.low"]}, "invalid_url"),
    ],
)
def test_a_bad_body_is_a_400(alice_client, public_name, data, code):
    response = post(alice_client, "/api/webhooks", data)
    assert (response.status_code, response.json()["error"]) == (400, code)
    assert not WebhookEndpoint.objects.exists()


def test_malformed_json_is_a_400(alice_client):
    response = alice_client.post("/api/webhooks", "{", content_type="application/json")
    assert (response.status_code, response.json()["error"]) == (400, "malformed_json")


def test_more_than_the_limit_is_a_409(alice, alice_client, public_name, settings, make_endpoint):
    settings.PHOENIX_WEBHOOKS_PER_USER = 1
    make_endpoint(owner=alice, url=public_name)
    response = post(alice_client, "/api/webhooks", {"url": public_name, "events": ["tokens.low"]})
    assert (response.status_code, response.json()["error"]) == (409, "too_many_webhooks")
    assert WebhookEndpoint.objects.count() == 1


def test_signed_out_is_a_401(client):
    assert client.get("/api/webhooks").status_code == 401


def test_delete_rotate_enable_and_others_endpoints(
    alice, bob, alice_client, make_endpoint, public_name
):
    mine = make_endpoint(
        owner=alice, url=public_name, disabled_at=timezone.now(), disabled_reason="gone"
    )
    theirs = make_endpoint(owner=bob, url=public_name)
    old = mine.secret
    rotated = post(alice_client, f"/api/webhooks/{mine.pk}/rotate")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (None, old)
    assert rotated.json()["previous_secret_expires_at"]
    enabled = post(alice_client, f"/api/webhooks/{mine.pk}/enable")
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    for url in (f"/api/webhooks/{theirs.pk}/rotate", f"/api/webhooks/{theirs.pk}/enable"):
        assert post(alice_client, url).json()["error"] == "not_found"
    assert alice_client.delete(f"/api/webhooks/{theirs.pk}").status_code == 404
    assert alice_client.get(f"/api/webhooks/{theirs.pk}/deliveries").status_code == 404
    assert alice_client.delete(f"/api/webhooks/{mine.pk}").status_code == 204
    assert alice_client.delete(f"/api/webhooks/{mine.pk}").status_code == 404
    assert list(WebhookEndpoint.objects.all()) == [theirs]


def test_the_delivery_log_and_resend(alice, alice_client, make_endpoint, make_delivery):
    endpoint = make_endpoint(owner=alice, url="https://hooks.example.com/in")
    waiting = make_delivery(
        endpoint=endpoint,
        state="pending",
        attempts=3,
        status_code=502,
        duration_ms=40,
        error="HTTP 502",
    )
    failed = make_delivery(endpoint=endpoint, state="failed", attempts=1, status_code=400)
    log = alice_client.get(f"/api/webhooks/{endpoint.pk}/deliveries").json()["deliveries"]
    assert [item["id"] for item in log] == [str(failed.pk), str(waiting.pk)]
    assert (log[1]["status_code"], log[1]["duration_ms"], log[1]["attempts"]) == (502, 40, 3)
    assert log[1]["next_attempt_at"] and log[0]["next_attempt_at"] is None

    resent = post(alice_client, f"/api/webhooks/deliveries/{failed.pk}/resend")
    assert resent.status_code == 202 and resent.json()["state"] == "pending"
    again = post(alice_client, f"/api/webhooks/deliveries/{waiting.pk}/resend")
    assert (again.status_code, again.json()["error"]) == (409, "not_resendable")
    assert WebhookDelivery.objects.get(pk=waiting.pk).attempts == 3
