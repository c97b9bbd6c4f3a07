from django.conf import settings
from django.http import HttpRequest

from .selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict:
    """The bell's count for the navigation bar: one small COUNT, only when a page draws it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": lambda: unread_count(user),
        "notifications_poll_seconds": settings.PHOENIX_NOTIFICATIONS_POLL_SECONDS,
    }
