from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractBaseUser

from tokens.models import LedgerEntry

from .models import ConfirmedEmail, PendingWelcome, WelcomedAddress, welcome_address

# Set in the session of a creator who has a welcome grant to collect: only such a session
# pays the query that decides whether to show the banner (the welcome_banner tag).
WELCOME_PENDING = "phoenix_welcome_pending"


def email_unconfirmed(user: AbstractBaseUser) -> bool:
    """Whether the account has an address it has not confirmed (its latest)."""
    if not user.email:
        return False
    return not ConfirmedEmail.objects.filter(user_id=user.pk, address__iexact=user.email).exists()


def reset_reaches(username: str) -> bool:
    """Whether a password reset e-mail can reach the account named `username`: the reset
    form mails active accounts with that address and a usable password (Django's
    PasswordResetForm.get_users). Accounts made before sign-up asked for an address have
    none."""
    User = get_user_model()
    return (
        User._default_manager.filter(**{User.USERNAME_FIELD: username.strip()}, is_active=True)
        .exclude(email="")
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exists()
    )


def _had_welcome(user: AbstractBaseUser) -> bool:
    return LedgerEntry.objects.filter(
        account__user_id=user.pk, kind=LedgerEntry.Kind.GRANT, reason="welcome"
    ).exists()


def welcome_pending(user: AbstractBaseUser) -> bool:
    """Whether the creator still has a welcome grant to get by confirming their address:
    they have not confirmed it, and have had no welcome grant (creators made by the demo
    command or the fixtures got theirs at once)."""
    if not email_unconfirmed(user):
        return False
    return not _had_welcome(user)


def welcome_owed(user: AbstractBaseUser) -> bool:
    """Whether a welcome grant is owed to the account for its address: welcome tokens are
    given, the account has had none, and no account has had one for the address (as
    welcome_address() counts it). The grant itself checks again under its locks."""
    if settings.PHOENIX_WELCOME_TOKENS <= 0 or not user.email or _had_welcome(user):
        return False
    return not WelcomedAddress.objects.filter(address=welcome_address(user.email)).exists()


def welcome_held(user: AbstractBaseUser) -> bool:
    """Whether the account's welcome grant is held back by the day's cap
    (PHOENIX_WELCOME_GRANTS_PER_DAY), waiting for the hourly catch-up."""
    return PendingWelcome.objects.filter(user_id=user.pk).exists()


def login_name(typed: str) -> str:
    """The username of the account someone logging in means by `typed`: their username
    in any case, or their e-mail address (in any case). Where two usernames differ only
    in case, only the exact one is meant. Unknown: what was typed, stripped."""
    typed = typed.strip()
    User = get_user_model()
    field = User.USERNAME_FIELD
    by_name = list(
        User._default_manager.filter(**{f"{field}__iexact": typed}).values_list(field, flat=True)[
            :2
        ]
    )
    if typed in by_name:
        return typed
    if len(by_name) == 1:
        return by_name[0]
    if "@" in typed and not by_name:
        # Addresses are unique whatever their case (profiles_user_email_unique_ci).
        by_email = (
            User._default_manager.filter(email__iexact=typed).values_list(field, flat=True).first()
        )
        if by_email is not None:
            return by_email
    return typed
