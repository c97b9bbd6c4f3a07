"""E-mails to people are sent by an RQ job on "light" (a slow or failing mail server never
holds a request, nor tells by its delay whether an address has an account; RQ retries a
failed send), never in the request. Every app sends through here.

Sent once, nearly: each e-mail is a job of its own, and the job claims its id in Redis
before it sends, so a job RQ runs again (a retry after the worker died mid-job) finds the
claim and sends nothing; a failed send gives the claim back and raises, for RQ to retry.
A worker killed between the claim and the end of the send loses that one e-mail rather than
risk sending it twice. Nothing is held per person: asking again (Resend, the reset form) is
a new e-mail, whatever became of the last one."""

import logging
import uuid

from django.core.mail import send_mail
from redis.exceptions import RedisError
from rq import Retry, get_current_job

from phoenix import redis_clients

log = logging.getLogger(__name__)

SEND_EMAIL = "phoenix.emails.send_email"
# RQ's scheduler runs the retries (worker-light has --with-scheduler).
EMAIL_RETRY = Retry(max=3, interval=[10, 60, 300])
SENT_PREFIX = "phoenix:email-sent:"
# As long as the failed job is kept: a claim outlives any run of its job.
SENT_SECONDS = 7 * 24 * 3600


def send_email(to: str, subject: str, body: str) -> str:
    """The job (no database: nothing to clean up). Returns what happened."""
    job = get_current_job()
    claim = f"{SENT_PREFIX}{job.id}" if job is not None else None
    if claim and not job.connection.set(claim, 1, nx=True, ex=SENT_SECONDS):
        return "already_sent"
    try:
        send_mail(subject, body, None, [to])
    except Exception:
        if claim:
            job.connection.delete(claim)
        log.warning("Could not send the e-mail %r; RQ retries it", subject)
        raise
    return "sent"


def email_enqueue(*, to: str, subject: str, body: str) -> bool:
    """Queue one e-mail now; False (logged) when Redis refuses it, so the caller can say
    so. Callers inside a transaction queue it from transaction.on_commit."""
    if not to:
        return False
    try:
        redis_clients.get_queue("light").enqueue(
            SEND_EMAIL,
            to,
            subject,
            body,
            job_id=f"email-{uuid.uuid4().hex}",
            retry=EMAIL_RETRY,
            result_ttl=3600,
            failure_ttl=SENT_SECONDS,
            description=f"e-mail: {subject}",
        )
    except RedisError:
        log.warning("Could not queue the e-mail %r", subject)
        return False
    return True
