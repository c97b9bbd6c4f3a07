"""Short jobs (e-mails, alerts, provider checks, fetches, cancels) run on `light`, served by
a worker that does not fork (the Procfile's worker-light): each job in the worker's own
process, bounded by its timeout, and nothing of one job's database state passed on to
the next."""

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils.module_loading import import_string
from rq import SimpleWorker
from rq.job import JobStatus

from creations import queues, services
from notifications.models import NotificationPreferences
from profiles.models import ConfirmedEmail
from tests.conftest import ROOT
from tests.test_schedule import queues_with_a_scheduler

pytestmark = pytest.mark.django_db(transaction=True)


def procfile_line(process: str) -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name == process:
            return command.split()
    raise AssertionError(f"no {process} in the Procfile")


def light_worker() -> SimpleWorker:
    """The Procfile's worker-light, made in this process as `rqworker` makes it."""
    words = procfile_line("worker-light")
    assert words[words.index("rqworker") + 1] == "light"
    worker_class = import_string(words[words.index("--worker-class") + 1])
    assert issubclass(worker_class, SimpleWorker)  # no fork per job
    light = queues.get_queue("light")
    return worker_class([light], connection=light.connection)


def leave_a_transaction_open() -> None:
    """A job that forgets itself: its connection is left in a transaction."""
    transaction.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def in_autocommit() -> bool:
    return connection.get_autocommit()


def test_a_notification_email_goes_to_light_and_the_light_worker_sends_it_in_its_process(
    alice, make_creation
):
    alice.email = "alice@example.com"
    alice.save(update_fields=["email"])
    ConfirmedEmail.objects.create(user=alice, address=alice.email)
    NotificationPreferences.objects.create(user=alice, email_video_finished=True)
    make_creation(owner=alice, status="draft", kind="video", prompt="tide pools")
    light = queues.get_queue("light")
    [job_id] = light.job_ids
    assert job_id.startswith("notify-mail-")

    light_worker().work(burst=True)

    # Sent by this very process (a forked horse's outbox would have stayed in the horse).
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert light.count == 0 and light.failed_job_registry.count == 0


def test_a_provider_cancel_goes_to_light(
    alice, make_creation, monkeypatch, django_capture_on_commit_callbacks
):
    creation = make_creation(owner=alice, status="processing", kind="video")
    creation.provider_task_id = "task-1"
    asked = []
    # The cancel is recorded (services.submissions), then sent after COMMIT.
    monkeypatch.setattr(
        "creations.services.submissions.cancel_remote_task",
        lambda kind, task: asked.append((kind, task)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_provider_task(creation)
    light_worker().work(burst=True)

    assert asked == [("video", "task-1")]


def test_a_job_that_hangs_is_cut_off_at_its_timeout_and_the_next_one_runs(db):
    light = queues.get_queue("light")
    hanging = light.enqueue("time.sleep", 120, job_timeout=1)
    after = light.enqueue("builtins.len", "next")

    light_worker().work(burst=True)

    assert hanging.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in hanging.latest_result().exc_string
    assert after.get_status() == JobStatus.FINISHED and after.return_value() == 4


def test_a_job_that_leaves_its_connection_in_a_transaction_does_not_pass_it_on(db):
    light = queues.get_queue("light")
    light.enqueue(leave_a_transaction_open)
    next_job = light.enqueue(in_autocommit)

    light_worker().work(burst=True)

    assert next_job.return_value() is True


def test_the_light_worker_runs_the_scheduler_the_mail_retries_wait_for():
    assert "light" in queues_with_a_scheduler()
