"""E-mail for "video ready" and "shared with you": off by default; when asked for, sent by
a job on "light" queued after COMMIT (never inside the request or the job that wrote the
notification), once, retried by RQ when the mail server fails, and not when the creator
already saw it."""

import pytest
from django.core import mail
from rq.job import Job

from creations import queues
from creations.events import creation_event
from creations.models import Creation
from notifications.jobs import entrypoints
from notifications.jobs.sending import email_job_id
from notifications.models import Notification, NotificationPreferences
from profiles.models import ConfirmedEmail
from sharing import services as sharing
from tests.conftest import run_worker_burst


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


def mail_jobs() -> list[str]:
    light = queues.get_queue("light")
    return [job_id for job_id in light.job_ids if job_id.startswith("notify-mail-")]


def completed(creation) -> None:
    creation_event.send(
        sender=Creation, event="completed", creation=creation, details={"seconds": 1.0}
    )


def test_no_email_by_default_even_with_an_address(alice, make_creation, run_on_commit):
    alice.email = "alice@example.com"
    alice.save()
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="video"))
    assert mail_jobs() == []
    assert mail.outbox == []


def test_an_address_not_confirmed_is_never_written_to(alice, make_creation, run_on_commit):
    wants(alice, confirmed=False, email_video_finished=True)
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="video"))
    assert mail_jobs() == []
    assert alice.notifications.count() == 1


def test_images_and_failures_are_never_emailed(alice, make_creation, run_on_commit):
    wants(alice, email_video_finished=True, email_draft_shared=True)
    run_on_commit(lambda: make_creation(owner=alice, status="draft", kind="image"))
    run_on_commit(lambda: make_creation(owner=alice, status="failed", kind="video"))
    assert mail_jobs() == []


def test_a_video_seen_on_its_card_first_is_not_emailed(
    alice_client, alice, make_creation, run_on_commit
):
    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video")  # listeners not run yet
    alice_client.get(
        f"/creations/{video.id}/card", {"shown": "processing"}, headers={"HX-Request": "true"}
    )
    run_on_commit(lambda: completed(video))
    assert mail_jobs() == []


def test_the_mail_job_is_queued_after_the_commit_and_nothing_is_sent_inline(
    alice, make_creation, django_capture_on_commit_callbacks
):
    from notifications.services import notification_create

    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = notification_create(
            recipient_id=alice.pk, kind="creation_finished", creation=video
        )
    assert mail_jobs() == []
    # The bell's version, then the mail job.
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()

    # Queued, not sent: the request or job that wrote it waits for no mail server.
    assert mail.outbox == []
    assert mail_jobs() == [f"notify-mail-{notification.pk}"]
    job = Job.fetch(email_job_id(notification.pk), connection=queues.get_queue("light").connection)
    assert job.func_name == "notifications.jobs.entrypoints.send_notification_email"
    assert (job.retries_left, job.retry_intervals) == (3, [10, 60, 300])


@pytest.mark.django_db(transaction=True)
def test_a_finished_video_is_emailed_once_by_the_worker(alice, make_creation):
    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video", prompt="tide pools")
    assert mail.outbox == []  # nothing sent before the worker runs
    completed(video)  # the event again (a retried listener): no second job

    run_worker_burst()
    # The job delivered again (its id is reused; RQ ran it once already): nothing more.
    notification = video.notifications.get()
    assert entrypoints.send_notification_email(str(notification.pk)) == "already_sent"

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your video is ready"
    assert "Your video is ready: “tide pools”" in message.body
    assert f"/notifications/{notification.pk}/open" in message.body
    notification.refresh_from_db()
    assert notification.emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_share_is_emailed_to_its_recipient_by_the_worker(alice, bob, make_creation):
    wants(bob, email="bob@example.com", email_draft_shared=True)
    draft = make_creation(owner=alice, status="draft", prompt="northern lights")
    sharing.share_with_person(creation=draft, owner=alice, username="bob")
    run_worker_burst()

    [message] = mail.outbox
    assert message.to == ["bob@example.com"]
    assert message.subject == "A draft was shared with you"
    assert "alice shared a draft image with you: “northern lights”" in message.body


@pytest.mark.django_db(transaction=True)
def test_a_share_revoked_before_the_mail_goes_sends_no_mail(alice, bob, make_creation):
    """The owner took it back: an e-mail saying "shared with you" would be unsolicited
    news of something no longer there."""
    wants(bob, email="bob@example.com", email_draft_shared=True)
    draft = make_creation(owner=alice, status="draft", prompt="northern lights")
    share = sharing.share_with_person(creation=draft, owner=alice, username="bob")
    kept = make_creation(owner=alice, status="draft", prompt="aurora")
    sharing.share_with_person(creation=kept, owner=alice, username="bob")
    sharing.share_revoke(share=share)
    run_worker_burst()

    [message] = mail.outbox  # the share still in place only
    assert "aurora" in message.body
    assert "northern lights" not in message.body
    revoked = Notification.objects.get(creation=draft, recipient=bob)
    assert revoked.emailed_at is None


@pytest.mark.django_db(transaction=True)
def test_read_or_turned_off_before_the_job_runs_is_not_emailed(alice, bob, make_creation):
    wants(alice, email_video_finished=True)
    read = make_creation(owner=alice, status="draft", kind="video")
    Notification.objects.filter(creation=read).update(read_at=read.draft_at)
    wants(bob, email="bob@example.com", email_video_finished=True)
    off = make_creation(owner=bob, status="draft", kind="video")
    NotificationPreferences.objects.filter(user=bob).update(email_video_finished=False)

    run_worker_burst()

    assert mail.outbox == []
    assert not Notification.objects.filter(creation__in=[read, off], emailed_at__isnull=False)


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_failure_is_retried_by_rq_and_sent_once_it_answers(
    alice, make_creation, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # nothing listens: connection refused
    settings.EMAIL_TIMEOUT = 2
    wants(alice, email_video_finished=True)
    video = make_creation(owner=alice, status="draft", kind="video")  # the job is not hurt
    notification = video.notifications.get()

    run_worker_burst()

    assert "Could not e-mail notification" in caplog.text
    notification.refresh_from_db()
    assert notification.emailed_at is None  # the claim was given back
    light = queues.get_queue("light")
    job_id = email_job_id(notification.pk)
    assert light.scheduled_job_registry.get_job_ids() == [job_id]  # RQ retries it later
    job = Job.fetch(job_id, connection=light.connection)
    assert job.retries_left == 2

    # Its retry comes (now, rather than in 10 s) and the mail server answers.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    light.scheduled_job_registry.remove(job)
    light.enqueue_job(job)
    run_worker_burst()

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
