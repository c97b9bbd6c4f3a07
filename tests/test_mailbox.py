"""The suite's mailbox (tests/mailbox.py): tests.conftest.sent_emails sees every e-mail sent,
by the test's own process or by a real RQ worker process it started."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from rq.job import Job, JobStatus

from accounts.jobs.sending import account_email_enqueue
from creations import queues
from tests.conftest import forget_sent_emails, sent_emails, start_worker, stop_worker, wait_for


def test_an_e_mail_sent_here_is_in_the_mailbox_and_in_the_test_outbox():
    message = EmailMultiAlternatives(
        "Hello", "Plain words.", None, ["maker@example.com"], cc=["copy@example.com"]
    )
    message.attach_alternative("<p>Plain words.</p>", "text/html")
    message.attach("notes.bin", b"some notes", "application/octet-stream")
    message.send()

    [kept] = sent_emails()
    assert (kept.subject, kept.body, kept.to, kept.cc) == (
        "Hello",
        "Plain words.",
        ["maker@example.com"],
        ["copy@example.com"],
    )
    assert kept.alternatives[0][:2] == ("<p>Plain words.</p>", "text/html")
    assert kept.attachments[0][:2] == ("notes.bin", b"some notes")
    assert [m.subject for m in mail.outbox] == ["Hello"]


def test_the_mailbox_keeps_the_order_of_sending_and_can_be_emptied():
    for n in range(3):
        send_mail(f"number {n}", "", None, ["maker@example.com"])

    assert [m.subject for m in sent_emails()] == ["number 0", "number 1", "number 2"]
    forget_sent_emails()
    assert sent_emails() == []
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_an_e_mail_a_worker_process_sends_reaches_the_test():
    account_email_enqueue(to="maker@example.com", subject="From the worker", body="Hi.")
    [job_id] = queues.get_queue("light").get_job_ids()
    worker = start_worker()
    try:
        job = Job.fetch(job_id, connection=queues.get_queue("light").connection)
        wait_for(lambda: job.get_status() == JobStatus.FINISHED, what="the worker sends the e-mail")
    finally:
        stop_worker(worker)

    assert mail.outbox == []  # not sent by this process
    [message] = sent_emails()
    assert (message.to, message.subject, message.body) == (
        ["maker@example.com"],
        "From the worker",
        "Hi.",
    )
