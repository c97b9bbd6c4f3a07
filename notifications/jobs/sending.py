"""Every job notifications sends to RQ is sent here (named by its dotted path: this module,
below the services, never imports the job bodies)."""

import logging

from redis.exceptions import RedisError
from rq import Retry

from phoenix import redis_clients

from ..models import Notification

log = logging.getLogger(__name__)

ENTRYPOINTS = "notifications.jobs.entrypoints"
SEND_NOTIFICATION_EMAIL = f"{ENTRYPOINTS}.send_notification_email"
NOTIFY_COMMENT = f"{ENTRYPOINTS}.notify_comment"

# The mail job's retries (RQ's scheduler runs them: worker-light has --with-scheduler).
EMAIL_RETRY = Retry(max=3, interval=[10, 60, 300])
# A comment's fan-out: a database that failed for a moment is tried again soon.
COMMENT_RETRY = Retry(max=3, interval=[5, 30, 120])


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


def comment_job_id(comment_id) -> str:
    return f"notify-comment-{comment_id}"


def comment_notify_enqueue(comment_id) -> bool:
    """After COMMIT: queue the notifications of a new comment on "light" (a thread of many
    commenters never holds the request that posted it). One job id per comment; the job
    writes each row once, so a job run twice tells nobody twice. False (logged) when Redis
    refused it."""
    try:
        redis_clients.get_queue("light").enqueue(
            NOTIFY_COMMENT,
            str(comment_id),
            job_id=comment_job_id(comment_id),
            retry=COMMENT_RETRY,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            description=f"notify comment {comment_id}",
        )
    except RedisError:
        log.warning("Could not queue the notifications of comment %s", comment_id)
        return False
    return True
