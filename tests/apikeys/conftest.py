import pytest
from django.test import Client

from apikeys import services


@pytest.fixture
def make_key(db):
    def make(user, scopes=("create", "read", "publish"), **options) -> str:
        return services.key_create(
            user=user, name="script", scopes=list(scopes), **options
        ).plaintext

    return make


def bearer(key: str) -> Client:
    """A client as a script is: no cookie, no CSRF token, the key in Authorization."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(
        username="keystaff", password="keystaff-password-123"
    )
