"""The one module that moves tokens. Nothing else writes TokenAccount.balance.

Every function locks the account row inside a transaction, so concurrent writers
serialise on it; the database constraints (balance >= 0, one debit and one refund
per creation, signs per kind, append-only ledger) hold even if this code is wrong.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Sum

from .models import LedgerEntry, TokenAccount


class InsufficientTokens(Exception):
    code = "insufficient_tokens"

    def __init__(self, *, balance: int, needed: int):
        super().__init__(f"This needs {needed} tokens and you have {balance}.")
        self.balance = balance
        self.needed = needed


class AlreadyApplied(Exception):
    """This form was sent before; `entry` is what the first sending wrote."""

    def __init__(self, entry: LedgerEntry):
        super().__init__(f"Already applied: {entry}")
        self.entry = entry


class BalanceWouldGoNegative(Exception):
    code = "balance_would_go_negative"

    def __init__(self, *, balance: int, amount: int):
        super().__init__(
            f"An adjustment of {amount:+d} would take the balance of {balance} below zero."
        )
        self.balance = balance
        self.amount = amount


class AdjustmentTooLarge(ValueError):
    code = "adjustment_too_large"

    def __init__(self, *, amount: int, bound: int):
        super().__init__(
            f"An adjustment is at most {bound:,} tokens either way ({amount:+,d} asked). "
            "Make larger corrections in several steps, each with its reason."
        )
        self.bound = bound


class SelfAdjustment(ValueError):
    code = "self_adjustment"

    def __init__(self):
        super().__init__(
            "Nobody adjusts their own balance: ask another staff member with the permission."
        )


def _locked_account(user: AbstractBaseUser) -> TokenAccount:
    try:
        return TokenAccount.objects.select_for_update().get(user_id=user.pk)
    except TokenAccount.DoesNotExist:
        # Accounts are opened at sign-up; this covers users made another way (admin, shell).
        TokenAccount.objects.get_or_create(user_id=user.pk)
        return TokenAccount.objects.select_for_update().get(user_id=user.pk)


def _write(
    account: TokenAccount,
    *,
    kind: str,
    amount: int,
    creation=None,
    reason: str = "",
    staff=None,
    request_key: str | None = None,
) -> LedgerEntry:
    account.balance += amount
    account.save(update_fields=["balance", "updated_at"])
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        creation=creation,
        reason=reason,
        staff=staff,
        request_key=request_key,
    )


@transaction.atomic
def account_open(*, user: AbstractBaseUser) -> TokenAccount:
    """Create the user's account with the welcome grant (once)."""
    account = _locked_account(user)
    if not account.entries.filter(kind=LedgerEntry.Kind.GRANT, reason="welcome").exists():
        amount = settings.PHOENIX_WELCOME_TOKENS
        if amount > 0:
            _write(account, kind=LedgerEntry.Kind.GRANT, amount=amount, reason="welcome")
    return account


@transaction.atomic
def account_grant_welcome(*, user: AbstractBaseUser, email: str) -> LedgerEntry | None:
    """The welcome grant for an address its owner has just confirmed: at most once per
    address (welcome_address(): lower-cased, +tags and Gmail dots dropped), ever, and once
    per account. The grant and the address's record are written together; None when the
    address or the account has had its welcome already.

    Two confirmations at once: of one account, they queue on its lock and the second sees
    the first's grant; of one address on two accounts, the address's unique constraint
    refuses the second, whose grant is rolled back with it.
    """
    from profiles.models import WelcomedAddress, welcome_address

    address = welcome_address(email)
    amount = settings.PHOENIX_WELCOME_TOKENS
    account = _locked_account(user)
    # Checked under the user row's lock: an account deactivated since its confirmation
    # link was opened gets nothing (and does not spend its address's one grant).
    active = type(user).objects.select_for_update().filter(pk=user.pk, is_active=True)
    if (
        not active.exists()
        or amount <= 0
        or account.entries.filter(kind=LedgerEntry.Kind.GRANT, reason="welcome").exists()
    ):
        return None
    if WelcomedAddress.objects.filter(address=address).exists():
        return None
    try:
        with transaction.atomic():
            entry = _write(account, kind=LedgerEntry.Kind.GRANT, amount=amount, reason="welcome")
            WelcomedAddress.objects.create(address=address, user_id=user.pk, entry=entry)
    except IntegrityError:
        # Another account confirmed this address at the same moment, and got there first.
        account.refresh_from_db(fields=["balance"])
        return None
    return entry


@transaction.atomic
def account_grant(*, user: AbstractBaseUser, amount: int, reason: str) -> LedgerEntry:
    if amount <= 0:
        raise ValueError("A grant must be a positive number of tokens.")
    account = _locked_account(user)
    return _write(account, kind=LedgerEntry.Kind.GRANT, amount=amount, reason=reason)


@transaction.atomic
def account_adjust(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    staff: AbstractBaseUser,
    request_key: str | None = None,
) -> LedgerEntry:
    """A staff member's signed correction; never takes the balance below zero.

    With a request_key already used on this account, nothing moves: AlreadyApplied
    carries the entry the first sending made.
    """
    if amount == 0:
        raise ValueError("An adjustment must change the balance.")
    if not reason.strip():
        raise ValueError("An adjustment needs a reason.")
    if abs(amount) > settings.PHOENIX_MAX_ADJUSTMENT:
        raise AdjustmentTooLarge(amount=amount, bound=settings.PHOENIX_MAX_ADJUSTMENT)
    if staff.pk == user.pk:
        raise SelfAdjustment()
    account = _locked_account(user)
    if request_key:
        # Under the account lock, so two sendings of one form cannot both get past this.
        first = account.entries.filter(request_key=request_key).first()
        if first is not None:
            raise AlreadyApplied(first)
    if account.balance + amount < 0:
        raise BalanceWouldGoNegative(balance=account.balance, amount=amount)
    return _write(
        account,
        kind=LedgerEntry.Kind.ADJUSTMENT,
        amount=amount,
        reason=reason.strip(),
        staff=staff,
        request_key=request_key,
    )


@transaction.atomic
def account_forfeit(*, user: AbstractBaseUser, reason: str) -> LedgerEntry | None:
    """Take the whole balance away (its owner deleted the account: unspent tokens are
    forfeited), as a ledger row, so the balance stays the sum of the ledger. None when
    there was nothing left."""
    account = _locked_account(user)
    if account.balance <= 0:
        return None
    return _write(account, kind=LedgerEntry.Kind.FORFEIT, amount=-account.balance, reason=reason)


def account_debit_locked(account: TokenAccount, *, amount: int, creation) -> LedgerEntry:
    """Debit an account the caller has already locked (inside the caller's transaction)."""
    if account.balance < amount:
        raise InsufficientTokens(balance=account.balance, needed=amount)
    return _write(
        account,
        kind=LedgerEntry.Kind.DEBIT,
        amount=-amount,
        creation=creation,
        reason=creation.kind,
    )


def lock_account(user: AbstractBaseUser) -> TokenAccount:
    """Lock and return the user's account; call inside transaction.atomic()."""
    return _locked_account(user)


def creation_refund_locked(
    account: TokenAccount, *, creation, reason: str, staff: AbstractBaseUser | None = None
) -> LedgerEntry | None:
    """Refund a creation's debit exactly once. The caller holds the account lock.

    `staff` is the staff member who refunded by hand, and `reason` then is the reason they
    gave (required); automatic refunds (failures, cancels) have no staff and an error code
    or "canceled" as their reason. Returns the new refund row, or None if the creation was
    already refunded or was never debited.
    """
    if staff is not None and not reason.strip():
        raise ValueError("A staff refund needs a reason.")
    debit = creation.ledger_entries.filter(kind=LedgerEntry.Kind.DEBIT).first()
    if debit is None or creation.ledger_entries.filter(kind=LedgerEntry.Kind.REFUND).exists():
        return None
    try:
        with transaction.atomic():
            return _write(
                account,
                kind=LedgerEntry.Kind.REFUND,
                amount=-debit.amount,
                creation=creation,
                reason=reason.strip()[:255],
                staff=staff,
            )
    except IntegrityError:
        # The unique constraint caught a second refund that slipped past the check.
        account.refresh_from_db(fields=["balance"])
        return None


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    username: str
    balance: int
    ledger_sum: int

    def __str__(self) -> str:
        return (
            f"{self.username} (account {self.account_id}): balance {self.balance}, "
            f"ledger sum {self.ledger_sum}, off by {self.balance - self.ledger_sum:+d}"
        )


def ledger_discrepancies() -> list[Discrepancy]:
    """Every account whose balance is not the sum of its ledger."""
    accounts = (
        TokenAccount.objects.select_related("user")
        .annotate(ledger_sum=Sum("entries__amount", default=0))
        .order_by("id")
    )
    return [
        Discrepancy(a.id, a.user.get_username(), a.balance, a.ledger_sum)
        for a in accounts
        if a.balance != a.ledger_sum
    ]
