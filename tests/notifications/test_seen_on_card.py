"""The rule: a notification is written at the event; the owner's card poll that renders the
final state (they were looking at it) marks it read, so the bell counts only what happened
while they were elsewhere — whichever of the two comes first."""

import pytest

from creations import services
from creations.events import creation_event
from creations.models import Creation
from notifications.models import Notification

from .conftest import notifications_of, text_of, unread_of

HTMX = {"HX-Request": "true"}


def poll(client, creation, shown):
    return client.get(f"/creations/{creation.id}/card", {"shown": shown}, headers=HTMX)


def completed(creation):
    creation_event.send(
        sender=Creation, event="completed", creation=creation, details={"seconds": 1.0}
    )


def test_the_card_poll_that_shows_the_draft_marks_its_notification_read(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    other = make_creation(owner=alice, status="draft", prompt="finished elsewhere")
    completed(other)
    draft = make_creation(owner=alice, status="draft")
    completed(draft)
    assert unread_of(alice) == 2

    html = poll(alice_client, draft, "processing").content.decode()

    assert Notification.objects.get(creation=draft).read_at is not None
    assert Notification.objects.get(creation=other).read_at is None
    # The bell on the page is refreshed by the same answer, with the other one still unread.
    assert '<span hx-swap-oob="innerHTML:#nav-bell-status">' in html
    assert "Notifications, 1 unread" in html


def test_when_the_poll_comes_first_the_event_finds_it_read_and_writes_nothing(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft", kind="video", prompt="a slow river")

    html = poll(alice_client, draft, "processing").content.decode()
    completed(draft)  # the job's listener, after the poll saw its COMMIT

    [notification] = notifications_of(alice)
    assert notification.read_at is not None
    assert text_of(notification) == "Your video is ready: “a slow river”"
    assert "Notifications</span>" in html  # no count: nothing unread


def test_a_failure_seen_on_the_card_is_read_and_says_its_refund(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    creation = make_creation(owner=alice, status="processing", kind="video", prompt="storm")
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_fail(creation=creation, code="timed_out")
    assert unread_of(alice) == 1

    poll(alice_client, creation, "processing")

    [notification] = notifications_of(alice)
    assert notification.kind == "creation_failed"
    assert notification.read_at is not None
    assert text_of(notification) == "Your video failed, 10 tokens refunded: “storm”"


def test_a_scheduled_card_that_shows_its_post_published_marks_that_read(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    scheduled = make_creation(owner=alice, status="scheduled")
    Creation.objects.filter(pk=scheduled.pk).update(publish_at=scheduled.created_at)
    with django_capture_on_commit_callbacks(execute=True):
        services.creation_publish_due(creation_id=scheduled.pk)
    assert unread_of(alice) == 1

    poll(alice_client, scheduled, "scheduled")

    assert unread_of(alice) == 0


@pytest.mark.parametrize("shown", ["draft", None, "scheduled"])
def test_a_card_rendered_without_news_marks_nothing(alice_client, alice, make_creation, shown):
    """Only a change the card saw happen counts: a page load or a draft card asked again
    does not mark a notification read (the creator may not have noticed that card)."""
    draft = make_creation(owner=alice, status="draft")
    completed(draft)

    params = {"shown": shown} if shown else {}
    html = alice_client.get(f"/creations/{draft.id}/card", params, headers=HTMX).content.decode()

    assert unread_of(alice) == 1
    assert "nav-bell-status" not in html


def test_someone_elses_card_poll_marks_nothing(client, alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")
    completed(draft)
    client.force_login(bob)

    assert poll(client, draft, "processing").status_code == 404
    assert unread_of(alice) == 1
    assert Notification.objects.filter(recipient=bob).count() == 0
