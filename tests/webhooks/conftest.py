import json
from datetime import timedelta

import pytest
from django.utils import timezone

from phoenix import jobs as phoenix_jobs
from webhooks.jobs import entrypoints
from webhooks.models import WebhookDelivery, WebhookEndpoint

# What a name used in tests "resolves to" on the public internet (TEST-NET addresses are
# not global: this one is a real public address, never reached — the tests that use it
# stop before connecting, or pin to loopback).
PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture
def allow_private(settings):
    """PHOENIX_WEBHOOKS_ALLOW_PRIVATE for this test: loopback http receivers."""
    settings.PHOENIX_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PHOENIX_WEBHOOK_TIMEOUT = 2
    return settings


@pytest.fixture
def receiver(httpserver, allow_private):
    """A local receiver (pytest-httpserver), reachable with allow_private."""
    return httpserver


@pytest.fixture
def resolver(monkeypatch):
    """Replace the name lookup (phoenix.outbound.resolve), never the policy: `names` maps a
    host to the list of answers given at each successive lookup (the last repeats)."""
    import ipaddress

    from phoenix import outbound

    real = outbound.resolve
    names: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def resolve(host, port):
        if host not in names:
            return real(host, port)
        lookups.append(host)
        answers = names[host]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ipaddress.ip_address(address) for address in answer]

    monkeypatch.setattr(outbound, "resolve", resolve)
    resolve.names = names
    resolve.lookups = lookups
    return resolve


@pytest.fixture
def make_endpoint(db):
    """An endpoint of `owner` to `url` (saved as is: the tests of the URL check make theirs
    through the service)."""
    from webhooks import signing

    def make(*, owner, url, events=("creation.finished",), **fields) -> WebhookEndpoint:
        return WebhookEndpoint.objects.create(
            owner=owner, url=url, events=list(events), secret=signing.new_secret(), **fields
        )

    return make


@pytest.fixture
def make_delivery(db):
    def make(*, endpoint, event_type="creation.finished", data=None, **fields) -> WebhookDelivery:
        body = json.dumps(
            {
                "type": event_type,
                "timestamp": "2026-12-07T00:00:00+00:00",
                "data": data or {"creation_id": "x"},
            }
        )
        fields.setdefault("next_attempt_at", timezone.now() - timedelta(seconds=1))
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            webhook_id=fields.pop("webhook_id", f"msg_test{WebhookDelivery.objects.count()}"),
            event_type=event_type,
            payload=body,
            **fields,
        )

    return make


def deliver(delivery) -> str:
    """Run the delivery job for it, here (as the worker would)."""
    return entrypoints.deliver_webhook(str(delivery.pk))


@pytest.fixture(autouse=True)
def jobs_keep_the_test_connection(request, monkeypatch):
    """A job closes stale connections first; in a test inside its transaction (not a
    transactional one), that would close the test's own connection (autocommit off)."""
    if "transaction" not in request.fixturenames and not _transactional(request):
        monkeypatch.setattr(phoenix_jobs, "close_old_connections", lambda: None)


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))
