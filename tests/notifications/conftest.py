import pytest

from notifications.models import Notification


@pytest.fixture
def carol(db):
    from profiles.services import creator_signup

    return creator_signup(username="carol", password="carol-password-123")


def notifications_of(user, kind: str | None = None) -> list[Notification]:
    rows = Notification.objects.filter(recipient=user)
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.order_by("created_at"))


def unread_of(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
