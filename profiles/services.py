from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string

from phoenix.emails import email_enqueue
from tokens.models import LedgerEntry
from tokens.services import account_grant_welcome, account_open, lock_account

from . import selectors, welcome
from .models import ConfirmedEmail, PendingWelcome, WelcomedAddress, welcome_address

User = get_user_model()

CONFIRM_SALT = "phoenix.profiles.confirm-email"


@transaction.atomic
def creator_signup(*, username: str, password: str, email: str = "") -> User:
    """A creator made by a trusted hand (the demo command, the test fixtures, the shell),
    with their token account and the welcome grant at once. The public sign-up form goes
    through creator_register instead."""
    user = User.objects.create_user(username=username, email=email, password=password)
    account_open(user=user)
    return user


@transaction.atomic
def creator_register(*, username: str, email: str, password: str) -> User:
    """A creator who signed up on the site: an empty token account, and no welcome grant
    until they confirm their address (email_confirm)."""
    user = User.objects.create_user(username=username, email=email, password=password)
    lock_account(user)  # opens the account, with nothing in it
    return user


def confirmation_token(user) -> str:
    """A signed link token naming the account and the address it was sent to: it stops
    working when the account's address changes, and after PHOENIX_EMAIL_CONFIRM_DAYS."""
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=CONFIRM_SALT)


class BadConfirmation(Exception):
    code = "bad_confirmation"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def confirmation_check(token: str):
    """The user a confirmation token is for, or BadConfirmation with the reason."""
    max_age = settings.PHOENIX_EMAIL_CONFIRM_DAYS * 86400
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise BadConfirmation("This link has expired. Log in and ask for a new one.") from None
    except signing.BadSignature:
        raise BadConfirmation("This link is not valid: it may be incomplete.") from None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not user.email or user.email.lower() != data.get("e"):
        raise BadConfirmation(
            "This link is for an address that is no longer on the account. "
            "Log in and ask for a new one."
        )
    return user


def confirmation_send(*, user, confirm_url: str) -> bool:
    """Queue the confirmation link's e-mail; False when it could not be queued."""
    context = {
        "user": user,
        "confirm_url": confirm_url,
        "welcome_tokens": settings.PHOENIX_WELCOME_TOKENS,
        "days": settings.PHOENIX_EMAIL_CONFIRM_DAYS,
    }
    return email_enqueue(
        to=user.email,
        subject=render_to_string("registration/confirm_email_subject.txt", context).strip(),
        body=render_to_string("registration/confirm_email_email.txt", context),
    )


@dataclass(frozen=True)
class WelcomedAddressClaim:
    """tokens.services.WelcomeClaim for an address as the welcome counts it."""

    address: str
    user_id: int

    def taken(self) -> bool:
        return WelcomedAddress.objects.filter(address=self.address).exists()

    def take(self, entry: LedgerEntry) -> None:
        WelcomedAddress.objects.create(address=self.address, user_id=self.user_id, entry=entry)


def welcome_grant(*, user, email: str) -> LedgerEntry | None:
    """The welcome grant for an address its owner has just confirmed: at most once per
    address (welcome_address(): lower-cased, +tags and Gmail dots dropped), ever, and once
    per account (tokens.services.account_grant_welcome)."""
    claim = WelcomedAddressClaim(address=welcome_address(email), user_id=user.pk)
    return account_grant_welcome(user=user, claim=claim)


@dataclass(frozen=True)
class Confirmed:
    user: object
    grant: LedgerEntry | None  # None: had its welcome before, or held (below)
    held: bool = False  # the day's cap was reached: the grant comes with the catch-up


@transaction.atomic
def email_confirm(*, user) -> Confirmed:
    """Record the account's address as confirmed, and give the welcome grant if neither
    the address nor the account has had it and today's cap has room (else it waits)."""
    ConfirmedEmail.objects.update_or_create(user=user, defaults={"address": user.email})
    return Confirmed(user=user, **_welcome_within_cap(user))


def _welcome_within_cap(user) -> dict:
    # Only a grant that is owed waits for room: an address welcomed before (on this account
    # or another) is told so at once, not promised tokens that the catch-up would not give.
    if not selectors.welcome_owed(user):
        return {"grant": None}
    if not welcome.slot_take():
        welcome.hold(user)
        return {"grant": None, "held": True}
    grant = welcome_grant(user=user, email=user.email)
    if grant is None:
        welcome.slot_give_back()
    return {"grant": grant}


def held_welcomes_grant(*, limit: int = 500) -> int:
    """Grant the welcomes held on capped days, oldest first, while today's cap has room;
    the number granted. Each in its own transaction, the held row locked (skipped if
    another run has it), so two runs never grant one twice."""
    granted = 0
    for user_id in PendingWelcome.objects.order_by("created_at").values_list("user_id", flat=True)[
        :limit
    ]:
        with transaction.atomic():
            pending = (
                PendingWelcome.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(user_id=user_id)
                .first()
            )
            if pending is None:
                continue
            user = pending.user
            confirmed = ConfirmedEmail.objects.filter(user=user).first()
            if not user.is_active or confirmed is None or confirmed.address != user.email:
                pending.delete()  # gone, or the address changed since: nothing owed here
                continue
            result = _welcome_within_cap(user)
            if result.get("held"):
                return granted  # today is full: the rest wait for tomorrow's room
            pending.delete()
            granted += result["grant"] is not None
    return granted
