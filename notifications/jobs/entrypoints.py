"""RQ entry points of notifications: thin wrappers around services."""

from notifications import emails, services
from phoenix.jobs import job_entrypoint


@job_entrypoint
def send_notification_email(notification_id: str) -> str:
    """A notification's e-mail, queued on "light" after COMMIT, retried by RQ."""
    return emails.notification_email_send(notification_id=notification_id)


@job_entrypoint
def notify_comment(comment_id: str) -> int:
    """A new comment's notifications (and their e-mails), queued on "light" after COMMIT."""
    return services.comment_notify(comment_id=comment_id)
