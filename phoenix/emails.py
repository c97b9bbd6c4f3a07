"""E-mails to people are sent by an RQ job on "light" (a slow or failing mail server never
holds a request; RQ retries), never in the request. Every app sends through here."""

import logging

from django.core.mail import send_mail
from redis.exceptions import RedisError
from rq import Retry

from phoenix import redis_clients

log = logging.getLogger(__name__)

SEND_EMAIL = "phoenix.emails.send_email"
EMAIL_RETRY = Retry(max=3, interval=[10, 60, 300])


def send_email(to: str, subject: str, body: str) -> None:
    """The job (no database: nothing to clean up)."""
    send_mail(subject, body, None, [to])


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
            retry=EMAIL_RETRY,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"e-mail: {subject}",
        )
    except RedisError:
        log.warning("Could not queue the e-mail %r", subject)
        return False
    return True
