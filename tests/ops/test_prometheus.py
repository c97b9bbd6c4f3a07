"""/metrics: a bearer token or a staff session, Phoenix's figures plus RQ's own."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from creations import services
from creations.models import Creation

from .conftest import creation_in_state

URL = reverse("prometheus_metrics")
TOKEN = "scrape-token-0123456789"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.PHOENIX_METRICS_TOKEN = TOKEN


def test_without_credentials_it_answers_401(client, db):
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", "Bearer "])
def test_a_wrong_token_is_refused(client, db, header):
    assert client.get(URL, HTTP_AUTHORIZATION=header).status_code == 403


def test_no_token_is_accepted_when_none_is_configured(client, db, settings):
    settings.PHOENIX_METRICS_TOKEN = ""
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_a_signed_in_creator_who_is_not_staff_is_refused(alice_client):
    assert alice_client.get(URL).status_code == 403


def test_the_right_token_gets_phoenix_and_rq_metrics(client, alice):
    creation_in_state(owner=alice, status="failed", error_code="storage_failed")
    creation_in_state(owner=alice, status="draft", seconds=12)

    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'phoenix_window_creations{kind="image",status="failed",window="1h"} 1.0' in body
    assert 'phoenix_refund_ratio{window="1h"} 1.0' in body
    assert 'phoenix_storage_failures{window="1h"} 1.0' in body
    assert "phoenix_token_discrepancies 0.0" in body
    assert (
        'phoenix_creation_processing_seconds_bucket{kind="image",le="20.0",window="1h"} 1.0' in body
    )
    assert 'phoenix_check_firing{check="storage_failures",type="alert"} 1.0' in body
    assert 'phoenix_ledger_tokens_total{kind="grant"} 100.0' in body
    assert 'phoenix_queue_depth{queue="images"} 0.0' in body
    # RQ's own collector, from django-rq.
    assert 'rq_jobs{queue="images",status="queued"} 0.0' in body


def test_a_staff_session_gets_the_metrics(client, plain_staff, alice):
    creation_in_state(owner=alice, status="draft")
    client.force_login(plain_staff)

    response = client.get(URL, {"window": "7d"})

    assert response.status_code == 200
    assert 'phoenix_task_success_ratio{window="7d"} 1.0' in response.content.decode()


def test_every_status_is_exported_and_cancels_have_their_own_gauge(client, alice, staff_user):
    post = creation_in_state(owner=alice, status="published")
    services.creation_take_down(creation=post, staff=staff_user(), reason="spam")
    services.creation_cancel(creation=creation_in_state(owner=alice, status="processing"))
    scheduled = creation_in_state(owner=alice, status="draft")
    services.creation_publish(creation=scheduled, publish_at=timezone.now() + timedelta(hours=2))

    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    body = response.content.decode()
    for status in Creation.Status.values:
        assert f'phoenix_window_creations{{kind="video",status="{status}",window="1h"}} 0.0' in body
    for status in ("taken_down", "canceled", "scheduled"):
        assert f'phoenix_window_creations{{kind="image",status="{status}",window="1h"}} 1.0' in body
    assert 'phoenix_canceled_creations{window="1h"} 1.0' in body
    assert 'phoenix_conversion_ratio{window="1h"} 0.5' in body  # the post taken down of 2
    assert 'phoenix_failure_ratio{window="1h"} 0.0' in body
    assert "phoenix_unrefunded_failures 0.0" in body
