"""The staff alerts page: incidents, who was told, silences. Seen by staff only; silencing
takes the ops.silence_alert permission on top."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ops.models import AlertDelivery, Incident, Silence

URL = "/staff/alerts"
SILENCE = "/staff/alerts/silence"
END = "/staff/alerts/end-silence"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def silencer(staff_user):
    return staff_user("ops.silence_alert", username="silencer")


@pytest.fixture
def incidents(db):
    now = timezone.now()
    open_one = Incident.objects.create(
        check_name="queue_depth",
        label="Queue depth ≤ 50",
        detail="images 120, videos 3, default 0",
        opened_at=now - timedelta(minutes=12),
        last_seen_at=now,
        open_notified_at=now - timedelta(minutes=12),
    )
    AlertDelivery.objects.create(
        incident=open_one,
        event="opened",
        channel="email",
        created_at=open_one.opened_at,
        delivered_at=open_one.opened_at,
        attempts=1,
    )
    AlertDelivery.objects.create(
        incident=open_one,
        event="opened",
        channel="webhook",
        created_at=open_one.opened_at,
        attempts=3,
        last_error="HTTPStatusError: Server error '503 Service Unavailable'",
    )
    resolved = Incident.objects.create(
        check_name="storage_failures",
        label="No storage upload failures",
        detail="2 in the window",
        opened_at=now - timedelta(hours=5),
        last_seen_at=now - timedelta(hours=4),
        resolved_at=now - timedelta(hours=4),
    )
    return open_one, resolved


def test_it_shows_staff_the_incidents_and_who_was_told(plain_staff, incidents):
    page = client_of(plain_staff).get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert "images 120, videos 3, default 0" in html
    assert 'data-channel="email" data-event="opened" data-state="delivered"' in html
    assert 'data-channel="webhook" data-event="opened" data-state="failing"' in html
    assert "not delivered (3 tries, again next run)" in html
    assert "No storage upload failures" in html  # the past incident
    assert "The checks have never run" in html  # no run yet: the page says so
    # Without the permission: no silence form, no end buttons.
    assert 'action="/staff/alerts/silence"' not in html


def test_past_incidents_are_paginated_newest_first(plain_staff, incidents):
    now = timezone.now()
    for n in range(25):
        Incident.objects.create(
            check_name=f"check_{n:02}",
            label=f"Check {n:02}",
            detail="x",
            opened_at=now - timedelta(days=1, minutes=n),
            last_seen_at=now - timedelta(days=1, minutes=n),
            resolved_at=now - timedelta(days=1, minutes=n - 1),
        )
    client = client_of(plain_staff)

    first = client.get(URL).content.decode()
    second = client.get(URL, {"page": 2}).content.decode()

    assert first.index("No storage upload failures") < first.index("Check 00")
    assert "Check 18" in first and "Check 19" not in first
    assert "Check 19" in second and "Page 2 of 2" in second
    assert client.get(URL, {"page": "nonsense"}).status_code == 200


def test_a_creator_and_a_visitor_are_sent_to_the_admin_login(alice, incidents):
    for client in (client_of(alice), Client()):
        for response in (client.get(URL), client.post(SILENCE, {"check": "queue_depth"})):
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")
    assert not Silence.objects.exists()


def test_staff_without_the_permission_cannot_silence(plain_staff, incidents):
    response = client_of(plain_staff).post(
        SILENCE, {"check": "queue_depth", "duration": "1h", "reason": "known"}
    )

    assert response.status_code == 403
    assert "that takes the “Can silence an alert and end a silence” permission" in (
        response.content.decode()
    )
    assert not Silence.objects.exists()


def test_a_silencer_silences_a_check_and_the_page_shows_it(silencer, incidents):
    client = client_of(silencer)
    form = client.get(URL).content.decode()
    assert 'action="/staff/alerts/silence"' in form
    assert '<option value="queue_depth"' in form

    response = client.post(
        SILENCE, {"check": "queue_depth", "duration": "4h", "reason": "  Redis migration  "}
    )

    assert response.status_code == 302 and response["Location"] == URL
    silence = Silence.objects.get()
    assert (silence.check_name, silence.reason, silence.created_by) == (
        "queue_depth",
        "Redis migration",
        silencer,
    )
    assert timedelta(hours=3, minutes=59) < silence.ends_at - timezone.now() <= timedelta(hours=4)
    page = client.get(URL).content.decode()
    assert "“Queue depth ≤ 50” (queue_depth) silenced until" in page  # the message
    assert "SILENCED" in page and "Redis migration" in page and "silencer" in page


@pytest.mark.parametrize(
    "form, message",
    [
        ({"check": "nope", "duration": "1h", "reason": "x"}, "There is no alert check named"),
        ({"check": "latency_image", "duration": "1h", "reason": "x"}, "no alert check named"),
        ({"check": "queue_depth", "duration": "3d", "reason": "x"}, "Choose how long"),
        ({"check": "queue_depth", "duration": "1h", "reason": ""}, "Say why it is silenced"),
        ({"check": "queue_depth", "duration": "1h", "reason": "x" * 501}, "under 500 characters"),
        ({}, "There is no alert check named"),
    ],
)
def test_bad_silence_input_is_refused_with_a_message_and_changes_nothing(
    silencer, incidents, form, message
):
    response = client_of(silencer).post(SILENCE, form)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Silence.objects.exists()


def test_a_silence_can_be_ended_early_once(silencer, incidents):
    client = client_of(silencer)
    client.post(SILENCE, {"check": "queue_depth", "duration": "24h", "reason": "deploy"})
    silence = Silence.objects.get()

    ended = client.post(END, {"silence": str(silence.code)})
    again = client.post(END, {"silence": str(silence.code)})

    assert ended.status_code == 302
    silence.refresh_from_db()
    assert silence.ended_at is not None and silence.ended_by == silencer
    assert again.status_code == 400
    assert "already ended" in again.content.decode()
    assert "No check is silenced." in client.get(URL).content.decode()


def test_ending_a_silence_needs_the_permission_and_a_real_silence(silencer, plain_staff, incidents):
    client_of(silencer).post(SILENCE, {"check": "queue_depth", "duration": "1h", "reason": "x"})
    silence = Silence.objects.get()

    refused = client_of(plain_staff).post(END, {"silence": str(silence.code)})
    garbled = client_of(silencer).post(END, {"silence": "not-a-uuid"})
    unknown = client_of(silencer).post(END, {"silence": "6f1c2b1e-0000-4000-8000-000000000000"})

    assert (refused.status_code, garbled.status_code, unknown.status_code) == (403, 400, 404)
    assert "That silence does not exist." in unknown.content.decode()
    silence.refresh_from_db()
    assert silence.ended_at is None


def test_the_silence_forms_need_a_csrf_token(silencer, incidents):
    client = Client(enforce_csrf_checks=True)
    client.force_login(silencer)

    response = client.post(SILENCE, {"check": "queue_depth", "duration": "1h", "reason": "x"})

    assert response.status_code == 403
    assert not Silence.objects.exists()


def test_the_metrics_page_links_to_the_alerts_page(plain_staff):
    assert 'href="/staff/alerts"' in client_of(plain_staff).get("/staff/metrics").content.decode()
