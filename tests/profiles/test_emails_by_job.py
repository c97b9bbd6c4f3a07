"""Account e-mails (the sign-up confirmation, its resend, the password reset) are sent by
a job on "light", never in the request: a slow or failing mail server neither holds the
page nor, by its delay, tells whether an address has an account. A failed send is retried
by RQ, a job run again sends nothing twice, and nothing stops the person asking again."""

import pytest
from django.core import mail
from django.test import Client
from redis.exceptions import RedisError
from rq.job import Job, JobStatus

from phoenix import emails, redis_clients
from profiles.services import creator_signup
from tests.conftest import run_worker_burst, sent_emails

PASSWORD = "a-long-password-123"
RESEND = "/accounts/confirm-email/resend"


def light_jobs() -> list[Job]:
    return redis_clients.get_queue("light").get_jobs()


def sign_up(client: Client, username: str = "maker", email: str = "maker@example.com"):
    form = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post("/accounts/signup/", form, follow=True)


def refuse_enqueues(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise RedisError("down")

    monkeypatch.setattr(redis_clients.get_queue("light").__class__, "enqueue", refuse)


def mail_server_down(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    settings.EMAIL_TIMEOUT = 2


def mail_server_back(settings) -> None:
    settings.EMAIL_BACKEND = "tests.mailbox.SharedMailbox"


def test_the_sign_up_queues_its_confirmation_and_the_job_sends_it(db):
    response = sign_up(Client())

    assert response.status_code == 200
    assert mail.outbox == []  # not sent by the request
    [job] = light_jobs()
    assert job.func_name == emails.SEND_EMAIL
    [message] = sent_emails()
    assert message.to == ["maker@example.com"]
    assert "/accounts/confirm-email/" in message.body
    assert job.get_status() == JobStatus.FINISHED


def test_the_resend_and_the_password_reset_are_queued_too(db):
    client = Client()
    sign_up(client)
    run_worker_burst()
    creator_signup(username="carol", password="carol-password-123", email="carol@example.com")

    client.post(RESEND, {"next": "/create"})
    Client().post("/accounts/password_reset/", {"email": "carol@example.com"})

    assert len(mail.outbox) == 1  # only the sign-up's, sent by the job above
    assert [job.func_name for job in light_jobs()] == [emails.SEND_EMAIL] * 2
    assert [m.subject for m in sent_emails()[1:]] == [
        "Confirm your e-mail for Phoenix",
        "Reset your Phoenix password",
    ]


def test_with_redis_refusing_the_sign_up_says_to_use_resend(db, monkeypatch):
    refuse_enqueues(monkeypatch)

    page = sign_up(Client())

    assert "We could not send the confirmation e-mail just now: use Resend." in (
        page.content.decode()
    )


def test_an_e_mail_that_could_not_be_queued_does_not_count_towards_the_limit(
    db, monkeypatch, settings
):
    settings.PHOENIX_EMAILS_PER_ADDRESS = 1
    client = Client()
    with monkeypatch.context() as patch:
        refuse_enqueues(patch)
        sign_up(client)

    resent = client.post(RESEND, {"next": "/create"})

    assert resent.status_code == 302
    [message] = sent_emails()
    assert message.to == ["maker@example.com"]
    # The one e-mail of the limit was sent: the next is refused.
    assert client.post(RESEND, {"next": "/create"}).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_retried_by_rq_and_the_person_can_resend_meanwhile(settings, caplog):
    mail_server_down(settings)
    client = Client()
    sign_up(client)

    run_worker_burst()

    assert "Could not send the e-mail" in caplog.text
    light = redis_clients.get_queue("light")
    [job_id] = light.scheduled_job_registry.get_job_ids()  # RQ retries it later
    job = Job.fetch(job_id, connection=light.connection)
    assert job.retries_left == 2
    assert not light.connection.exists(f"{emails.SENT_PREFIX}{job_id}")  # claim given back

    # The person asks again while the first waits for its retry; the mail server is back.
    mail_server_back(settings)
    assert client.post(RESEND, {"next": "/create"}).status_code == 302
    run_worker_burst()
    # Then the retry comes (now rather than in 10 s).
    light.scheduled_job_registry.remove(job)
    light.enqueue_job(job)

    messages = sent_emails()

    assert [m.to for m in messages] == [["maker@example.com"]] * 2
    assert job.get_status() == JobStatus.FINISHED


def test_a_job_run_again_sends_nothing_twice(db):
    sign_up(Client())
    [job] = light_jobs()
    run_worker_burst()
    assert job.return_value() == "sent"

    # RQ runs it again (a retry after its worker died once the e-mail was out).
    light = redis_clients.get_queue("light")
    light.enqueue_job(job)
    run_worker_burst()

    assert job.return_value(refresh=True) == "already_sent"
    assert len(sent_emails()) == 1
