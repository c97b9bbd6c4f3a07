from django.conf import settings
from django.http import HttpRequest

from .polling import bell_poll
from .selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict:
    """The bell's count for the navigation bar: one small COUNT, only when a page draws it;
    and its poll (one Redis read for its version, only then too)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": lambda: unread_count(user),
        "notifications_poll_seconds": settings.PHOENIX_NOTIFICATIONS_POLL_SECONDS,
        "notifications_bell_poll": lambda: bell_poll(user.pk),
    }
