"""The bell's poll: a version per user, bumped after COMMIT whenever a notification for them
is written or read; an unchanged bell is answered 204 without SQL or the session."""

import html as html_lib
import re

import pytest
from django.test import Client

from creations import versions
from notifications import services
from notifications.models import Notification
from tests.conftest import no_session

HTMX = {"HX-Request": "true"}


def bell_url(html: str) -> str:
    found = re.search(r'<span id="nav-bell-poll"[^>]*?hx-get="([^"]+)"', html)
    assert found is not None
    return html_lib.unescape(found.group(1))


@pytest.fixture
def draft(alice, make_creation):
    return make_creation(owner=alice, status="draft")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_an_unchanged_bell_is_answered_204_without_sql_or_session(
    alice_client, django_assert_num_queries
):
    url = bell_url(alice_client.get("/").content.decode())

    with django_assert_num_queries(0), no_session():
        response = alice_client.get(url, headers=HTMX)

    assert response.status_code == 204
    assert "Cookie" not in response.get("Vary", "")


def test_a_new_notification_changes_the_bell_after_commit(
    alice_client, alice, draft, django_capture_on_commit_callbacks
):
    url = bell_url(alice_client.get("/").content.decode())

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=draft
        )
        assert alice_client.get(url, headers=HTMX).status_code == 204  # not committed yet
    for callback in callbacks:
        callback()

    response = alice_client.get(url, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Notifications, 1 unread" in html
    again = bell_url(html)
    assert again != url
    assert alice_client.get(again, headers=HTMX).status_code == 204


@pytest.mark.parametrize("read", ["all", "some", "open", "seen_on_card"])
def test_reading_notifications_changes_the_bell(alice_client, alice, draft, committed, read):
    with committed():
        notification = services.notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=draft
        )
    url = bell_url(alice_client.get("/").content.decode())

    with committed():
        if read == "all":
            services.notifications_mark_read(user=alice)
        elif read == "some":
            services.notifications_mark_read(user=alice, ids=[notification.pk])
        elif read == "open":
            services.notification_open(notification=notification)
        else:
            services.creation_seen(owner=alice, creation=draft, shown="processing")

    response = alice_client.get(url, headers=HTMX)
    assert response.status_code == 200
    assert "Notifications</span>" in response.content.decode()  # none unread


def test_marking_nothing_read_leaves_the_bell_alone(alice_client, alice, committed):
    url = bell_url(alice_client.get("/").content.decode())
    with committed():
        services.notifications_mark_read(user=alice)

    assert alice_client.get(url, headers=HTMX).status_code == 204


def test_someone_elses_bell_token_tells_nothing_of_theirs(
    alice_client, alice, bob, draft, committed
):
    url = bell_url(alice_client.get("/").content.decode())
    with committed():
        services.notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=draft
        )
    bobs = Client()
    bobs.force_login(bob)

    html = bobs.get(url, headers=HTMX).content.decode()

    assert "1 unread" not in html  # bob's own count (none), with bob's own poller
    assert Client().get(url, headers=HTMX).status_code == 204  # signed out: nothing
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 1


def test_redis_down_at_the_bump_never_fails_the_write(alice, draft, committed, monkeypatch):
    from redis import Redis

    dead = Redis(port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(versions, "connection", lambda: dead)

    with committed():
        notification = services.notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=draft
        )

    assert Notification.objects.filter(pk=notification.pk).exists()
