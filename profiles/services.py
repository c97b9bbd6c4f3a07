from django.contrib.auth import get_user_model
from django.db import transaction

from tokens.services import account_open

User = get_user_model()


@transaction.atomic
def creator_signup(*, username: str, password: str) -> User:
    """A new creator with their token account and welcome grant."""
    user = User.objects.create_user(username=username, password=password)
    account_open(user=user)
    return user
