"""Account e-mails (the sign-up confirmation, its resend, the password reset) are sent by
a job on "light", never in the request: a slow or failing mail server neither holds the
page nor, by its delay, tells whether an address has an account."""

from django.core import mail
from django.test import Client
from redis.exceptions import RedisError

from phoenix import emails, redis_clients
from profiles.services import creator_signup
from tests.conftest import sent_emails

PASSWORD = "a-long-password-123"


def light_jobs() -> list[str]:
    queue = redis_clients.get_queue("light")
    return [job.func_name for job in queue.get_jobs()]


def test_the_sign_up_queues_its_confirmation_and_the_job_sends_it(db):
    form = {"username": "maker", "email": "maker@example.com", "password1": PASSWORD}
    response = Client().post("/accounts/signup/", {**form, "password2": PASSWORD})

    assert response.status_code == 302
    assert mail.outbox == []
    assert light_jobs() == [emails.SEND_EMAIL]
    [message] = sent_emails()
    assert message.to == ["maker@example.com"]
    assert "/accounts/confirm-email/" in message.body


def test_the_password_reset_is_queued_too(db):
    creator_signup(username="carol", password="carol-password-123", email="carol@example.com")

    Client().post("/accounts/password_reset/", {"email": "carol@example.com"})

    assert mail.outbox == []
    assert light_jobs() == [emails.SEND_EMAIL]
    assert sent_emails()[0].subject == "Reset your Phoenix password"


def test_with_redis_refusing_the_sign_up_says_to_use_resend(db, monkeypatch):
    def refuse(*args, **kwargs):
        raise RedisError("down")

    monkeypatch.setattr(redis_clients.get_queue("light").__class__, "enqueue", refuse)
    form = {"username": "maker", "email": "maker@example.com", "password1": PASSWORD}

    page = Client().post("/accounts/signup/", {**form, "password2": PASSWORD}, follow=True)

    assert "We could not send the confirmation e-mail just now: use Resend." in (
        page.content.decode()
    )
