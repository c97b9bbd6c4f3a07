"""Account e-mails are sent by a job on "light" after COMMIT (a slow mail server never
holds the request), retried by RQ."""

import logging

from django.db import transaction
from redis.exceptions import RedisError
from rq import Retry

from creations import queues

log = logging.getLogger(__name__)

EMAIL_RETRY = Retry(max=3, interval=[10, 60, 300])


def account_email_enqueue(*, to: str, subject: str, body: str) -> None:
    """Queue the e-mail once the caller's transaction commits (at once outside one)."""
    if not to:
        return

    def send() -> None:
        from . import jobs  # jobs imports the services, which import this module

        try:
            queues.get_queue("light").enqueue(
                jobs.send_account_email,
                to,
                subject,
                body,
                retry=EMAIL_RETRY,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"account e-mail: {subject}",
            )
        except RedisError:
            log.warning("Could not queue the account e-mail %r", subject)

    transaction.on_commit(send)
