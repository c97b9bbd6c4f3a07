"""RQ entry points of notifications: thin wrappers around services."""

from django.db import close_old_connections

from . import services


def send_notification_email(notification_id: str) -> str:
    """A notification's e-mail, queued on "light" after COMMIT, retried by RQ."""
    close_old_connections()
    try:
        return services.notification_email_send(notification_id=notification_id)
    finally:
        close_old_connections()
