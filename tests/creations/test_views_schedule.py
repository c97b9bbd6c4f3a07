"""Publish at a time: the form sends the creator's local time and its offset, the card shows
when it publishes (in UTC until the browser rewrites it), Unschedule takes it back, and a time
in the past or more than a year ahead is a 400 on the form."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from creations import queues, services
from creations.models import Creation

from .lifecycle import in_state

HTMX = {"HX-Request": "true"}
INDIA = timedelta(hours=5, minutes=30)


def a_moment(**ahead) -> datetime:
    """A moment ahead, in UTC, to the minute (what a datetime-local field sends)."""
    return (timezone.now() + timedelta(**ahead)).astimezone(UTC).replace(second=0, microsecond=0)


def typed(moment, offset: timedelta) -> str:
    """What the datetime-local field holds in a browser at `offset` from UTC."""
    return (moment + offset).replace(tzinfo=None).isoformat(timespec="minutes")


def schedule(client, creation, publish_at: str, offset: str, *, follow=False, **headers):
    data = {"caption": "at dawn", "publish_at": publish_at, "publish_at_offset": offset}
    return client.post(f"/creations/{creation.id}/publish", data, headers=headers, follow=follow)


def test_a_local_time_with_its_offset_schedules_the_draft_in_utc(
    alice_client, alice, make_creation, django_capture_on_commit_callbacks
):
    draft = make_creation(owner=alice, status="draft")
    moment = a_moment(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = schedule(alice_client, draft, typed(moment, INDIA), "+05:30", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="scheduled"' in html
    # The card says when, in UTC, inside a <time> that phoenix.js shows in local time.
    assert f'<time datetime="{moment.isoformat()}" data-local-time' in html
    assert f"{moment:%a %-d %b, %H:%M} UTC</time>" in html
    assert f'data-due="{moment.isoformat()}"' in html and 'hx-trigger="due"' in html
    assert f'action="/creations/{draft.id}/unschedule"' in html
    assert "Scheduled for <time" in html  # announced
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at, draft.caption) == ("scheduled", moment, "at dawn")
    # RQ's scheduler has its job for that moment, on the default queue.
    registry = queues.get_queue("default").scheduled_job_registry
    assert f"publish-{draft.id}-{int(moment.timestamp())}" in registry.get_job_ids()


def test_without_javascript_the_time_is_read_as_utc_and_the_form_says_so(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")
    moment = a_moment(days=3)
    form = alice_client.get("/soho/alice?tab=drafts").content.decode()
    assert "The time is read as UTC." in form

    response = schedule(alice_client, draft, typed(moment, timedelta(0)), offset="", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert f"Scheduled for {moment:%a %-d %b, %H:%M} UTC." in response.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at) == ("scheduled", moment)


@pytest.mark.parametrize(
    ("ahead", "offset", "message"),
    [
        ({"minutes": -5}, "+05:30", "Publish at is in the past."),
        ({"days": 367}, "+05:30", "Publish at can be at most a year ahead."),
        ({"days": 1}, "+5", "The time zone offset must look like +01:00."),
    ],
)
def test_a_time_that_cannot_be_is_a_400_on_the_open_form_with_the_words_kept(
    alice_client, alice, make_creation, ahead, offset, message
):
    draft = make_creation(owner=alice, status="draft")
    value = typed(a_moment(**ahead), INDIA)

    response = schedule(alice_client, draft, value, offset, **HTMX)

    html = response.content.decode()
    assert response.status_code == 400
    assert f'<p class="form-error" role="alert">{message}</p>' in html
    assert '<details class="publish" open>' in html
    assert f'value="{value}"' in html
    assert ">at dawn</textarea>" in html
    draft.refresh_from_db()
    assert (draft.status, draft.publish_at, draft.caption) == ("draft", None, "")
    assert queues.get_queue("default").scheduled_job_registry.get_job_ids() == []


def test_a_time_that_is_not_a_time_is_a_400_too(alice_client, alice, make_creation):
    draft = make_creation(owner=alice, status="draft")

    response = schedule(alice_client, draft, "next tuesday", "+01:00", **HTMX)

    assert response.status_code == 400
    assert "Publish at must be a date and time such as" in response.content.decode()
    assert Creation.objects.get(pk=draft.pk).status == "draft"


def test_without_javascript_a_refused_time_comes_back_as_a_message(
    alice_client, alice, make_creation
):
    draft = make_creation(owner=alice, status="draft")

    response = schedule(
        alice_client, draft, typed(a_moment(minutes=-5), INDIA), "+05:30", follow=True
    )

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Publish at is in the past." in response.content.decode()
    assert Creation.objects.get(pk=draft.pk).status == "draft"


def test_the_scheduled_card_asks_at_its_time_and_comes_back_published(
    alice_client, alice, make_creation
):
    scheduled = in_state(make_creation, owner=alice, state="scheduled")
    assert services.creation_publish_due(
        creation_id=scheduled.id, now=scheduled.publish_at + timedelta(seconds=1)
    )

    html = alice_client.get(
        f"/creations/{scheduled.id}/card", {"shown": "scheduled"}, headers=HTMX
    ).content.decode()

    assert 'data-status="published"' in html
    assert "Your image is published." in html
    assert f'href="/p/{scheduled.id}"' in html
    assert "data-due" not in html


def test_unschedule_makes_it_a_draft_again(alice_client, alice, make_creation):
    scheduled = in_state(make_creation, owner=alice, state="scheduled")

    response = alice_client.post(
        f"/creations/{scheduled.id}/unschedule",
        headers={**HTMX, "HX-Target": f"creation-{scheduled.id}"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="draft"' in html
    assert "Unscheduled. It is a draft again." in html
    assert "data-autofocus" in html
    scheduled.refresh_from_db()
    assert (scheduled.status, scheduled.publish_at) == ("draft", None)


def test_unschedule_without_javascript_redirects_to_the_drafts(alice_client, alice, make_creation):
    scheduled = in_state(make_creation, owner=alice, state="scheduled")

    response = alice_client.post(f"/creations/{scheduled.id}/unschedule", follow=True)

    assert response.redirect_chain == [("/soho/alice?tab=drafts", 302)]
    assert "Unscheduled. It is a draft again." in response.content.decode()
    assert Creation.objects.get(pk=scheduled.pk).status == "draft"


@pytest.mark.parametrize("state", ["draft", "published", "trashed-scheduled"])
def test_only_a_scheduled_post_can_be_unscheduled(alice_client, alice, make_creation, state):
    creation = in_state(make_creation, owner=alice, state=state)
    before = (creation.status, creation.publish_at)

    response = alice_client.post(f"/creations/{creation.id}/unschedule", headers=HTMX)

    assert response.status_code == 409
    assert "Only a scheduled post can be unscheduled." in response.content.decode()
    creation.refresh_from_db()
    assert (creation.status, creation.publish_at) == before


def test_a_scheduled_draft_stays_on_the_drafts_tab_and_not_in_the_feed(
    client, alice, make_creation
):
    scheduled = in_state(make_creation, owner=alice, state="scheduled")
    client.force_login(alice)

    drafts = client.get("/soho/alice?tab=drafts").content.decode()
    feed = client.get("/").content.decode()

    assert f'id="creation-{scheduled.id}"' in drafts
    assert "Publishes <time" in drafts
    assert str(scheduled.id) not in feed
