"""A new account before its address is confirmed sees one state on the create page
("confirm to unlock N free tokens", with resend) — never the out-of-tokens block nor "Out
of tokens" on Generate. Tokens someone else moves tell the creator: the welcome grant on
confirming, a staff grant or adjustment (the bell, and e-mail if they asked for it)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications import services as notification_services
from notifications.emails import notification_email_send
from notifications.jobs.sending import email_job_id
from notifications.models import Notification, NotificationPreferences
from notifications.presenters import present_one
from profiles.models import ConfirmedEmail
from profiles.services import confirmation_token
from tests.conftest import staff_adjust
from tests.notifications.test_email import mail_jobs
from tokens.services import account_grant

PASSWORD = "a-long-password-123"


@pytest.fixture
def newcomer_client(db, django_capture_on_commit_callbacks):
    """A browser that has just signed up (logged in, address not confirmed yet)."""
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("signup"),
            {
                "username": "newcomer",
                "email": "newcomer@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 302
    return client


def create_page(client) -> str:
    response = client.get(reverse("create"))
    assert response.status_code == 200
    return response.content.decode()


def test_before_confirming_the_create_page_has_one_state(newcomer_client, settings):
    html = create_page(newcomer_client)
    assert "Confirm your address to unlock 100 free tokens" in html
    assert "newcomer@example.com" in html
    assert f'action="{reverse("confirm_email_resend")}"' in html
    # Not the out-of-tokens block, nor its words on Generate, nor the banner a second time.
    assert "out of tokens" not in html.lower()
    assert 'id="out-of-tokens"' not in html
    assert html.count("Resend the link") == 1
    assert "Confirm your e-mail to generate" in html
    assert re.search(r'<button type="submit"[^>]*create-form__submit"[^>]* disabled', html)


def test_other_pages_keep_the_banner(newcomer_client):
    html = newcomer_client.get(reverse("feed")).content.decode()
    assert "Confirm your e-mail to receive your 100 welcome tokens" in html


def test_after_confirming_the_tokens_arrive_with_a_notification(
    newcomer_client, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.get(username="newcomer")
    confirm_url = reverse("confirm_email", args=[confirmation_token(user)])
    with django_capture_on_commit_callbacks(execute=True):
        assert newcomer_client.post(confirm_url).status_code == 302

    html = create_page(newcomer_client)
    assert "unlock" not in html
    assert "Generate" in html and "Confirm your e-mail to generate" not in html
    (notification,) = Notification.objects.filter(recipient=user)
    assert (notification.kind, notification.amount) == ("tokens_added", 100)
    assert present_one(notification, reader=user) == (
        "Your 100 welcome tokens have arrived: your address is confirmed"
    )
    bell = newcomer_client.get(reverse("notifications")).content.decode()
    assert "Your 100 welcome tokens have arrived" in bell
    # The welcome grant is on the bell, never e-mailed.
    assert all(m.subject != "Tokens were added to your Phoenix balance" for m in mail.outbox)


def confirmed(user, email: str) -> None:
    user.email = email
    user.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=user, address=email)


@pytest.mark.parametrize(
    ("amount", "kind", "words"),
    [
        (25, "tokens_added", "Phoenix staff added 25 tokens to your balance"),
        (-3, "tokens_removed", "Phoenix staff took 3 tokens from your balance (a correction)"),
    ],
)
def test_a_staff_adjustment_rings_the_bell(
    alice, amount, kind, words, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = staff_adjust(user=alice, amount=amount, reason="Sorry about the outage")
    (notification,) = Notification.objects.filter(recipient=alice)
    assert (notification.kind, notification.amount) == (kind, abs(amount))
    assert notification.object_key == f"ledger:{entry.pk}"
    assert present_one(notification, reader=alice) == words
    opened = Client()
    opened.force_login(alice)
    response = opened.get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("token_history")


def test_a_staff_grant_is_emailed_to_a_creator_who_asked(alice, django_capture_on_commit_callbacks):
    confirmed(alice, "alice@example.com")
    NotificationPreferences.objects.create(user=alice, email_tokens=True)
    with django_capture_on_commit_callbacks(execute=True):
        account_grant(user=alice, amount=40, reason="contest prize")
    notification = Notification.objects.get(recipient=alice)
    assert mail_jobs() == [email_job_id(notification.pk)]
    assert notification_email_send(notification_id=notification.pk) == "sent"
    (sent,) = mail.outbox
    assert sent.to == ["alice@example.com"]
    assert sent.subject == "Tokens were added to your Phoenix balance"
    assert "Phoenix staff added 40 tokens to your balance" in sent.body


def test_no_email_for_tokens_unless_asked(alice, django_capture_on_commit_callbacks):
    confirmed(alice, "alice@example.com")
    NotificationPreferences.objects.create(user=alice, email_video_finished=True)
    with django_capture_on_commit_callbacks(execute=True):
        staff_adjust(user=alice, amount=5, reason="goodwill")
    assert mail_jobs() == []
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=alice, kind="tokens_added").count() == 1


def test_the_notification_is_written_once_per_entry(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = staff_adjust(user=alice, amount=5, reason="goodwill")
    notification_services.on_tokens_given(sender=None, entry=entry)  # a signal sent twice
    assert Notification.objects.filter(recipient=alice).count() == 1


def test_the_settings_offer_token_emails(alice):
    client = Client()
    client.force_login(alice)
    confirmed(alice, "alice@example.com")
    response = client.post(reverse("notifications_settings"), {"email_tokens": "on"})
    assert response.status_code == 302
    assert NotificationPreferences.objects.get(user=alice).email_tokens is True
