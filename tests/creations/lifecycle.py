"""Creations in the lifecycle's later states, reached through the real services, for the
view tests (tests/conftest.py's make_creation stops at published)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from creations import services
from creations.models import Creation


def moderator():
    user, _ = get_user_model().objects.get_or_create(
        username="moderator", defaults={"is_staff": True}
    )
    return user


def in_state(make_creation, *, owner, state: str, **options) -> Creation:
    """`state` is a status, or "trashed-<status>" for one in the trash."""
    if state.startswith("trashed-"):
        creation = in_state(
            make_creation, owner=owner, state=state.removeprefix("trashed-"), **options
        )
        services.creation_trash(creation=creation)
        return Creation.objects.get(pk=creation.pk)
    if state == "canceled":
        creation = make_creation(owner=owner, status="pending", **options)
        services.creation_cancel(creation=creation)
    elif state == "scheduled":
        creation = make_creation(owner=owner, status="draft", **options)
        services.creation_publish(
            creation=creation, caption="later", publish_at=timezone.now() + timedelta(days=2)
        )
    elif state == "taken_down":
        creation = make_creation(owner=owner, status="published", **options)
        services.creation_take_down(creation=creation, staff=moderator(), reason="Copyright")
    else:
        creation = make_creation(owner=owner, status=state, **options)
    return Creation.objects.get(pk=creation.pk)
