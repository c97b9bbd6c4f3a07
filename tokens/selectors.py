from django.contrib.auth.models import AbstractBaseUser

from .models import TokenAccount


def balance_of(user: AbstractBaseUser) -> int:
    """The user's current balance in one small query (0 without an account)."""
    return (
        TokenAccount.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0
    )
