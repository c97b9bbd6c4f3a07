"""The bell, the notifications page, opening one, "Mark all read" and the e-mail settings."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from creations.services import creation_publish, creation_trash
from notifications.models import Notification, NotificationPreferences
from notifications.selectors import PAGE_SIZE
from tests.conftest import run_light_jobs

from .conftest import comment_notifications, unread_of


@pytest.fixture
def notify(alice, make_creation):
    """Write a notification of `kind` for `recipient` (alice by default) about a new draft."""

    def write(*, recipient=None, kind="creation_finished", prompt="a quiet harbour", **extra):
        creation = extra.pop("creation", None) or make_creation(
            owner=alice, status="draft", prompt=prompt
        )
        return Notification.objects.create(
            recipient=recipient or alice,
            kind=kind,
            creation=creation,
            object_key=str(extra.get("comment_id") or creation.pk),
            **extra,
        )

    return write


def test_the_bell_says_how_many_are_unread(alice_client, notify):
    html = alice_client.get("/").content.decode()
    assert 'id="nav-bell"' in html
    assert '<span class="visually-hidden">Notifications</span>' in html
    assert "bell__count" not in html  # no number at 0

    notify()
    notify()
    read = notify()
    read.read_at = timezone.now()
    read.save()

    html = alice_client.get("/").content.decode()
    assert '<span class="visually-hidden">Notifications, 2 unread</span>' in html
    assert 'data-unread="2">2</span>' in html


def test_the_bell_polls_its_own_small_endpoint(alice_client, notify, settings):
    settings.PHOENIX_NOTIFICATIONS_POLL_SECONDS = 30
    notify()
    page = alice_client.get("/").content.decode()
    poller = re.search(r'<span id="nav-bell-poll" hidden hx-get="([^"]+)" ([^>]*)>', page)
    assert poller is not None
    assert poller.group(1).startswith("/notifications/bell?v=")
    assert 'hx-trigger="every 30s" hx-target="#nav-bell-status"' in poller.group(2)

    # Asked without the version (or with an old one): the count, and the poller again.
    response = alice_client.get("/notifications/bell", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    assert html.startswith(
        '<span class="visually-hidden">Notifications, 1 unread</span>'
        '<span class="bell__count" aria-hidden="true" data-unread="1">1</span>'
        '<span id="nav-bell-poll" hidden hx-get="/notifications/bell?v='
    )
    assert 'hx-swap-oob="true"' in html


def test_the_bell_endpoint_costs_session_user_and_one_count(
    alice_client, notify, django_assert_num_queries
):
    notify()
    alice_client.get("/notifications/bell")  # warm
    with django_assert_num_queries(3):
        alice_client.get("/notifications/bell")  # no version: rendered


def test_a_visitor_sees_no_bell_and_its_endpoint_answers_nothing(client, db):
    assert 'id="nav-bell"' not in client.get("/").content.decode()
    response = client.get("/notifications/bell")
    assert response.status_code == 204
    assert response.content == b""


def test_the_count_shows_99_plus_beyond_99(alice_client, alice, notify, make_creation):
    draft = make_creation(owner=alice, status="draft")
    Notification.objects.bulk_create(
        Notification(
            recipient=alice,
            kind="comment",
            creation=draft,
            comment_id=f"00000000-0000-0000-0000-{n:012d}",
            object_key=str(n),
            text="x",
        )
        for n in range(120)
    )
    html = alice_client.get("/notifications/bell").content.decode()
    assert "Notifications, 120 unread" in html
    assert ">99+</span>" in html


def test_the_page_lists_newest_first_and_links_each_through_open(alice_client, notify):
    older = notify(prompt="An older one")
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(hours=2))
    newer = notify(prompt="A newer one")

    response = alice_client.get("/notifications")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Notifications</h1>" in html
    assert "2 unread." in html
    assert html.index("A newer one") < html.index("An older one")
    assert f'href="/notifications/{newer.pk}/open"' in html
    assert '<span class="visually-hidden">Unread: </span>' in html
    assert "Mark all read" in html


def test_the_page_is_paginated(alice_client, alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")
    comment_notifications(
        draft=draft, author=bob, words=[f"Comment number {n:02d}." for n in range(PAGE_SIZE + 5)]
    )
    first = alice_client.get("/notifications").content.decode()
    assert "Comment number 00." in first
    assert f"Comment number {PAGE_SIZE - 1:02d}." in first
    assert f"Comment number {PAGE_SIZE:02d}." not in first
    older = first.split('href="?before=')[1].split('"')[0]

    second = alice_client.get(f"/notifications?before={older}").content.decode()
    assert f"Comment number {PAGE_SIZE:02d}." in second
    assert "Comment number 00." not in second
    assert "Older notifications" not in second
    # A cursor that is not one shows the newest page.
    assert "Comment number 00." in alice_client.get("/notifications?before=junk").content.decode()


def test_the_empty_page_says_what_will_appear(alice_client):
    html = alice_client.get("/notifications").content.decode()
    assert "No notifications yet." in html
    assert "when a creation is ready or fails" in html
    assert "You are all caught up." in html
    assert "Mark all read" not in html


def test_the_page_shows_only_ones_own(alice_client, bob, notify, make_creation):
    notify(recipient=bob, creation=make_creation(owner=bob, prompt="Something for bob only"))
    html = alice_client.get("/notifications").content.decode()
    assert "Something for bob only" not in html


def test_the_page_needs_a_login(client):
    response = client.get("/notifications")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_opening_one_marks_it_read_and_leads_to_the_card_on_the_drafts_tab(alice_client, notify):
    notification = notify()
    response = alice_client.get(f"/notifications/{notification.pk}/open")

    assert response.status_code == 302
    assert response["Location"] == (f"/soho/alice?tab=drafts#creation-{notification.creation_id}")
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Opening it again keeps the first read time.
    first_read = notification.read_at
    alice_client.get(f"/notifications/{notification.pk}/open")
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_opening_leads_where_the_creation_is_now(alice_client, alice, notify, make_creation):
    posted = notify(kind="post_published", creation=make_creation(owner=alice, status="draft"))
    creation_publish(creation=posted.creation, caption="hi")
    trashed = notify(creation=make_creation(owner=alice, status="draft"))
    creation_trash(creation=trashed.creation)

    assert alice_client.get(f"/notifications/{posted.pk}/open")["Location"] == (
        f"/p/{posted.creation_id}"
    )
    assert alice_client.get(f"/notifications/{trashed.pk}/open")["Location"] == (
        f"/soho/alice?tab=trash#creation-{trashed.creation_id}"
    )


# Transactional: the comment's job closes its database connection after it, as on worker-light.
@pytest.mark.django_db(transaction=True)
def test_shared_and_comment_notifications_lead_to_the_shared_draft_while_it_is_shared(
    client, alice, bob, make_creation, django_capture_on_commit_callbacks
):
    from sharing import services as sharing

    draft = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        share = sharing.share_with_person(creation=draft, owner=alice, username="bob")
        sharing.comment_post(creation=draft, author=bob, text="Nice one")
        comment = sharing.comment_post(creation=draft, author=alice, text="Thanks!")
    run_light_jobs()  # the comments' notifications
    shared = Notification.objects.get(recipient=bob, kind="draft_shared")
    commented = Notification.objects.get(recipient=bob, kind="comment")
    client.force_login(bob)

    assert client.get(f"/notifications/{shared.pk}/open")["Location"] == (
        f"/creations/{draft.pk}/shared"
    )
    assert client.get(f"/notifications/{commented.pk}/open")["Location"] == (
        f"/creations/{draft.pk}/shared#comment-{comment.pk}"
    )

    sharing.share_revoke(share=share)
    response = client.get(f"/notifications/{shared.pk}/open", follow=True)
    assert response.redirect_chain == [("/notifications", 302)]
    assert "That draft is no longer shared with you." in response.content.decode()


# Transactional: the comment's job closes its database connection after it, as on worker-light.
@pytest.mark.django_db(transaction=True)
def test_a_comment_on_a_draft_since_published_leads_its_owner_to_the_post(
    alice_client, alice, bob, make_creation, django_capture_on_commit_callbacks
):
    from sharing import services as sharing

    draft = make_creation(owner=alice, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        sharing.share_with_person(creation=draft, owner=alice, username="bob")
        sharing.comment_post(creation=draft, author=bob, text="Ship it")
    run_light_jobs()  # the comment's notifications
    notification = Notification.objects.get(recipient=alice, kind="comment")
    assert alice_client.get(f"/notifications/{notification.pk}/open")["Location"] == (
        f"/creations/{draft.pk}/shared#comment-{notification.comment_id}"
    )
    creation_publish(creation=draft, caption="Shipped")
    assert alice_client.get(f"/notifications/{notification.pk}/open")["Location"] == (
        f"/p/{draft.pk}"
    )


def test_someone_elses_notification_does_not_open(client, bob, notify):
    notification = notify()
    client.force_login(bob)
    assert client.get(f"/notifications/{notification.pk}/open").status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_marks_ones_own_only(alice_client, alice, bob, notify, make_creation):
    notify()
    notify()
    notify(recipient=bob, creation=make_creation(owner=bob))

    response = alice_client.post("/notifications/read")

    assert response.status_code == 302
    assert response["Location"] == "/notifications"
    assert unread_of(alice) == 0
    assert unread_of(bob) == 1
    page = alice_client.get("/notifications").content.decode()
    assert "Marked 2 notifications read." in page
    assert "You are all caught up." in page


def test_mark_all_read_takes_post_only(alice_client, alice, notify):
    notify()
    assert alice_client.get("/notifications/read").status_code == 405
    assert unread_of(alice) == 1


def confirm(user, address="alice@example.com"):
    from profiles.models import ConfirmedEmail

    user.email = address
    user.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=user, address=address)


def test_email_settings_are_off_by_default_and_saved(alice_client, alice):
    confirm(alice)
    html = alice_client.get("/notifications").content.decode()
    assert 'name="email_video_finished" id="id_email_video_finished">' in html
    assert "checked" not in html
    assert "E-mails go to your confirmed address, <strong>alice@example.com</strong>." in html
    assert not NotificationPreferences.objects.filter(user=alice).exists()  # created lazily

    response = alice_client.post("/notifications/settings", {"email_video_finished": "on"})

    assert response.status_code == 302
    preferences = NotificationPreferences.objects.get(user=alice)
    assert (preferences.email_video_finished, preferences.email_draft_shared) == (True, False)
    html = alice_client.get("/notifications").content.decode()
    assert "E-mail settings saved." in html
    assert 'name="email_video_finished" id="id_email_video_finished" checked>' in html

    alice_client.post("/notifications/settings", {"email_draft_shared": "on"})
    preferences.refresh_from_db()
    assert (preferences.email_video_finished, preferences.email_draft_shared) == (False, True)


@pytest.mark.parametrize("confirmed", [False, True])
def test_emails_cannot_be_turned_on_without_a_confirmed_address(alice_client, alice, confirmed):
    if confirmed:  # confirmed once, then changed to an address not confirmed yet
        confirm(alice, "old@example.com")
    alice.email = "new@example.com"
    alice.save()

    response = alice_client.post("/notifications/settings", {"email_draft_shared": "on"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Your account has no confirmed e-mail address yet: confirm it first" in html
    assert "no confirmed e-mail address yet, so nothing can be e-mailed" in html
    assert not NotificationPreferences.objects.filter(user=alice).exists()
    # Turning them off needs no address.
    assert alice_client.post("/notifications/settings", {}).status_code == 302


def test_what_others_wrote_is_escaped_on_the_page(alice_client, alice, bob, make_creation):
    draft = make_creation(owner=alice, status="draft")
    comment_notifications(draft=draft, author=bob, words=["<script>alert(1)</script>"])
    html = alice_client.get("/notifications").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
