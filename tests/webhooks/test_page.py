"""/settings/webhooks: add an endpoint (its secret shown once), the delivery log, Resend,
rotate, delete, turn back on; only one's own."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import PUBLIC_ADDRESS

pytestmark = pytest.mark.django_db

PAGE = "/settings/webhooks"


def test_it_needs_a_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_settings_pages_link_to_it(alice_client):
    assert f'href="{PAGE}"' in alice_client.get("/settings/security").content.decode()


def test_adding_an_endpoint_shows_its_secret_once(alice, alice_client, resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    response = alice_client.post(
        PAGE,
        {"url": "https://hooks.example.com/in", "events": ["creation.finished", "tokens.low"]},
    )
    assert response.status_code == 302
    [endpoint] = WebhookEndpoint.objects.filter(owner=alice)
    assert endpoint.events == ["creation.finished", "tokens.low"]
    first = alice_client.get(PAGE).content.decode()
    assert endpoint.secret in first and "https://hooks.example.com/in" in first
    assert endpoint.secret not in alice_client.get(PAGE).content.decode()


def test_no_event_chosen_is_a_400_and_nothing_made(alice_client, resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    response = alice_client.post(PAGE, {"url": "https://hooks.example.com/in"})
    assert response.status_code == 400
    assert "Choose at least one event." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_log_shows_status_attempts_duration_and_next_try(
    alice, alice_client, make_endpoint, make_delivery
):
    endpoint = make_endpoint(owner=alice, url="https://hooks.example.com/in")
    make_delivery(
        endpoint=endpoint,
        state="pending",
        attempts=2,
        status_code=503,
        duration_ms=87,
        error="HTTP 503",
        next_attempt_at=datetime(2031, 3, 3, 4, 5, 6, tzinfo=UTC),
    )
    page = alice_client.get(PAGE).content.decode()
    for text in ("503", "87 ms", "HTTP 503", "3 Mar, 04:05:06", "<td>2</td>"):
        assert text in page


def test_resend_of_a_failed_delivery(alice, alice_client, make_endpoint, make_delivery):
    endpoint = make_endpoint(owner=alice, url="https://hooks.example.com/in")
    delivery = make_delivery(endpoint=endpoint, state="failed", attempts=10, status_code=500)
    response = alice_client.post(
        f"/settings/webhooks/deliveries/{delivery.pk}/resend", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'id="delivery-{delivery.pk}"' in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_another_creators_endpoint_and_delivery_are_not_found(
    bob, alice_client, make_endpoint, make_delivery
):
    endpoint = make_endpoint(owner=bob, url="https://hooks.example.com/bob")
    delivery = make_delivery(endpoint=endpoint, state="failed")
    for url in (
        f"/settings/webhooks/{endpoint.pk}/delete",
        f"/settings/webhooks/{endpoint.pk}/rotate",
        f"/settings/webhooks/{endpoint.pk}/enable",
        f"/settings/webhooks/deliveries/{delivery.pk}/resend",
    ):
        assert alice_client.post(url).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, secret=endpoint.secret).exists()
    assert WebhookDelivery.objects.get(pk=delivery.pk).state == "failed"


def test_rotate_delete_and_turn_back_on(alice, alice_client, make_endpoint, resolver):
    resolver.names["hooks.example.com"] = [[PUBLIC_ADDRESS]]
    endpoint = make_endpoint(
        owner=alice,
        url="https://hooks.example.com/in",
        disabled_at=timezone.now(),
        disabled_reason="gone",
    )
    old = endpoint.secret
    alice_client.post(f"/settings/webhooks/{endpoint.pk}/rotate")
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == old and endpoint.secret != old
    assert endpoint.secret in alice_client.get(PAGE).content.decode()
    alice_client.post(f"/settings/webhooks/{endpoint.pk}/enable")
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.disabled_reason == ""
    alice_client.post(f"/settings/webhooks/{endpoint.pk}/delete")
    assert not WebhookEndpoint.objects.exists()


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_1_and_many_deliveries(
    alice, alice_client, make_endpoint, make_delivery
):
    first = make_endpoint(owner=alice, url="https://hooks.example.com/1")
    make_delivery(endpoint=first)
    few = page_queries(alice_client)
    for n in range(4):
        endpoint = make_endpoint(owner=alice, url=f"https://hooks.example.com/{n + 2}")
        for _ in range(30):
            make_delivery(endpoint=endpoint)
    assert page_queries(alice_client) == few
    page = alice_client.get(PAGE).content.decode()
    assert page.count('<tr id="delivery-') == 1 + 4 * 20  # the newest 20 per endpoint
