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


def text_of(notification: Notification) -> str:
    """What the notification says to its recipient now (built when read)."""
    from notifications.presenters import present_one

    notification = Notification.objects.select_related("creation__owner", "recipient").get(
        pk=notification.pk
    )
    return present_one(notification, reader=notification.recipient)


def texts_of(user, kind: str | None = None) -> list[str]:
    return [text_of(n) for n in notifications_of(user, kind)]


def comment_notifications(*, draft, author, words, minutes_apart: bool = True):
    """A real comment of `author` on `draft` for each of `words`, and its owner's
    notification of it, a minute apart, the first the newest."""
    from datetime import timedelta

    from django.utils import timezone

    from sharing.models import Comment

    now = timezone.now()
    notifications = []
    for n, text in enumerate(words):
        comment = Comment.objects.create(creation=draft, author=author, text=text)
        notifications.append(
            Notification(
                recipient_id=draft.owner_id,
                kind="comment",
                creation=draft,
                comment_id=comment.pk,
                object_key=str(comment.pk),
                created_at=now - timedelta(minutes=n if minutes_apart else 0),
            )
        )
    return Notification.objects.bulk_create(notifications)


@pytest.fixture
def client_of(db):
    """A signed-in client for a user, or for a username."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    def make(user):
        if isinstance(user, str):
            user = get_user_model().objects.get(username=user)
        client = Client()
        client.force_login(user)
        return client

    return make
