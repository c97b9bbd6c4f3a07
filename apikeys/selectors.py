from uuid import UUID

from .models import ApiKey


def keys_of(user) -> list[ApiKey]:
    return list(ApiKey.objects.filter(user=user))


def own_key(*, user, key_id: UUID) -> ApiKey | None:
    """The caller's key; someone else's answers as an unknown one does."""
    return ApiKey.objects.filter(pk=key_id, user=user).first()
