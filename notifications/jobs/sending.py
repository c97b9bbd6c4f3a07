"""Every job notifications sends to RQ is sent here (named by its dotted path: this module,
below the services, never imports the job bodies)."""

import logging

from redis.exceptions import RedisError
from rq import Retry

from phoenix import redis_clients

from ..models import Notification

log = logging.getLogger(__name__)

SEND_NOTIFICATION_EMAIL = "notifications.jobs.entrypoints.send_notification_email"

# The mail job's retries (RQ's scheduler runs them: worker-light has --with-scheduler).
EMAIL_RETRY = Retry(max=3, interval=[10, 60, 300])


def email_job_id(notification_id) -> str:
    return f"notify-mail-{notification_id}"


def notification_email_enqueue(notification: Notification) -> None:
    """After COMMIT: queue its e-mail on "light" (a mail server's delay or trouble never
    holds the request or the job that wrote it). One job id per notification. If Redis
    refuses, the notification is still on the page and the bell; only the e-mail is lost."""
    try:
        redis_clients.get_queue("light").enqueue(
            SEND_NOTIFICATION_EMAIL,
            str(notification.pk),
            job_id=email_job_id(notification.pk),
            retry=EMAIL_RETRY,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"e-mail notification {notification.pk}",
        )
    except RedisError:
        log.warning("Could not queue the e-mail of notification %s", notification.pk)
