from django.contrib.auth.models import AbstractBaseUser

from tokens.models import LedgerEntry

from .models import ConfirmedEmail

# Set in the session of a creator who has a welcome grant to collect: only such a session
# pays the query that decides whether to show the banner (the welcome_banner tag).
WELCOME_PENDING = "phoenix_welcome_pending"


def email_unconfirmed(user: AbstractBaseUser) -> bool:
    """Whether the account has an address it has not confirmed (its latest)."""
    if not user.email:
        return False
    return not ConfirmedEmail.objects.filter(user_id=user.pk, address__iexact=user.email).exists()


def welcome_pending(user: AbstractBaseUser) -> bool:
    """Whether the creator still has a welcome grant to get by confirming their address:
    they have not confirmed it, and have had no welcome grant (creators made by the demo
    command or the fixtures got theirs at once)."""
    if not email_unconfirmed(user):
        return False
    return not LedgerEntry.objects.filter(
        account__user_id=user.pk, kind=LedgerEntry.Kind.GRANT, reason="welcome"
    ).exists()
