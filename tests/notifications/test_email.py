"""E-mail for "video ready" and "shared with you": off by default, sent once when asked for,
after COMMIT, and not when the creator already saw it on the card."""

import pytest
from django.core import mail

from creations.events import creation_event
from creations.models import Creation
from notifications.models import NotificationPreferences
from profiles.models import ConfirmedEmail
from sharing import services as sharing


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def wants(user, *, email="alice@example.com", confirmed=True, **flags):
    user.email = email
    user.save(update_fields=["email"])
    if confirmed:
        ConfirmedEmail.objects.create(user=user, address=email)
    NotificationPreferences.objects.create(user=user, **flags)


def test_no_email_by_default_even_with_an_address(alice, make_creation, run_on_commit):
    alice.email = "alice@example.com"
    alice.save()
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="video"))
    assert mail.outbox == []


def test_a_finished_video_is_emailed_once_when_asked_for(alice, make_creation, run_on_commit):
    wants(alice, email_video_finished=True)
    video = run_on_commit(
        lambda: make_creation(owner=alice, status="draft", kind="video", prompt="tide pools")
    )
    # The event again (a retried listener): no second e-mail.
    run_on_commit(
        lambda: creation_event.send(
            sender=Creation, event="completed", creation=video, details={"seconds": 1.0}
        )
    )

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your video is ready"
    assert "Your video is ready: “tide pools”" in message.body
    assert f"/notifications/{video.notifications.get().pk}/open" in message.body


def test_an_address_not_confirmed_is_never_written_to(alice, make_creation, run_on_commit):
    wants(alice, confirmed=False, email_video_finished=True)
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="video"))
    assert mail.outbox == []
    assert alice.notifications.count() == 1


def test_images_and_failures_are_never_emailed(alice, make_creation, run_on_commit):
    wants(alice, email_video_finished=True, email_draft_shared=True)
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="image"))
    run_on_commit(lambda: make_creation(owner=alice, status="failed", kind="video"))
    assert mail.outbox == []


def test_a_video_seen_on_its_card_first_is_not_emailed(
    alice_client, alice, make_creation, run_on_commit
):
    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video")  # listeners not run yet
    alice_client.get(
        f"/creations/{video.id}/card", {"shown": "processing"}, headers={"HX-Request": "true"}
    )
    run_on_commit(
        lambda: creation_event.send(
            sender=Creation, event="completed", creation=video, details={"seconds": 1.0}
        )
    )
    assert mail.outbox == []


def test_a_share_is_emailed_to_its_recipient_when_asked_for(
    alice, bob, make_creation, run_on_commit
):
    wants(bob, email="bob@example.com", email_draft_shared=True)
    draft = make_creation(owner=alice, status="draft", prompt="northern lights")
    run_on_commit(lambda: sharing.share_with_person(creation=draft, owner=alice, username="bob"))

    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    assert message.subject == "A draft was shared with you"
    assert "alice shared a draft image with you: “northern lights”" in message.body


def test_the_email_waits_for_the_commit(alice, make_creation, django_capture_on_commit_callbacks):
    from notifications.services import notification_create

    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=video, text="Ready"
        )
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_a_mail_server_failure_is_logged_and_never_raised(
    alice, make_creation, run_on_commit, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    settings.EMAIL_TIMEOUT = 2
    wants(alice, email_video_finished=True)

    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="video"))

    assert "Could not e-mail notification" in caplog.text
    assert alice.notifications.count() == 1
