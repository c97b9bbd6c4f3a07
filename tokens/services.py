"""The one module that moves tokens. Nothing else writes TokenAccount.balance.

Every function locks the account row inside a transaction, so concurrent writers
serialise on it; the database constraints (balance >= 0, one debit and one refund
per creation, one credit per purchase, signs per kind, append-only ledger) hold even if
this code is wrong. Lock order: the account first, then its purchase, lots or creation.

Every credit is a lot (tokens.models.CreditLot) and Σ lot.remaining = balance: a credit
opens one, a debit draws from them in CreditLot.DRAW_ORDER (promo before paid, then the
soonest expiry first, then the oldest) and records its draws, a refund of a creation gives
the draws back. Tokens taken back after they were spent (a refunded or lost purchase)
become debt, paid first from whatever comes in next.
"""

import datetime
import functools
import logging
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from phoenix.db import prepared_cursor

from . import signals
from .errors import AdjustmentTooLarge as AdjustmentTooLarge
from .errors import AlreadyApplied as AlreadyApplied
from .errors import BalanceWouldGoNegative as BalanceWouldGoNegative
from .errors import InsufficientTokens as InsufficientTokens
from .errors import SelfAdjustment as SelfAdjustment
from .models import CreditLot, LedgerEntry, LotDraw, Purchase, TokenAccount
from .selectors import Discrepancy as Discrepancy  # also named here, where callers look
from .selectors import expired_lot_ids
from .selectors import ledger_discrepancies as ledger_discrepancies
from .signals import tokens_given

log = logging.getLogger(__name__)


def _locked_account(user: AbstractBaseUser) -> TokenAccount:
    account = _lock_row(user.pk)
    if account is None:
        # Accounts are opened at sign-up; this covers users made another way (admin, shell).
        TokenAccount.objects.get_or_create(user_id=user.pk)
        account = _lock_row(user.pk)
    return account


# Every money write, and every create, starts here. Written out and prepared (phoenix.db):
# the ORM built and compiled this one query again on every call, three times the CPU of
# running it (0.5 ms of a create's 8, make bench's create against the debit floor).
_ACCOUNT_FIELDS = [field.attname for field in TokenAccount._meta.concrete_fields]
_LOCK_SQL = (
    f"SELECT {', '.join(field.column for field in TokenAccount._meta.concrete_fields)} "  # nosec B608
    f"FROM {TokenAccount._meta.db_table} WHERE user_id = %s FOR UPDATE"
)


def _lock_row(user_id) -> TokenAccount | None:
    with prepared_cursor() as cursor:
        cursor.execute(_LOCK_SQL, [user_id])
        row = cursor.fetchone()
    return None if row is None else TokenAccount.from_db(connection.alias, _ACCOUNT_FIELDS, row)


def _write(
    account: TokenAccount,
    *,
    kind: str,
    amount: int,
    creation=None,
    reason: str = "",
    staff=None,
    request_key: str | None = None,
    purchase: Purchase | None = None,
    lot: CreditLot | None = None,
) -> LedgerEntry:
    before = account.balance
    account.balance += amount
    account.save(update_fields=["balance", "debt", "updated_at"])
    entry = LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        creation=creation,
        reason=reason,
        staff=staff,
        request_key=request_key,
        purchase=purchase,
        lot=lot,
    )
    _tell_if_low(account, before=before, entry=entry)
    return entry


def _tell_if_low(account: TokenAccount, *, before: int, entry: LedgerEntry) -> None:
    """The balance went from the threshold or more to less: tokens.low (webhooks), once per
    crossing, after COMMIT. Every balance change passes through _write, so this is the one
    place it is noticed. A forfeit is the account's deletion, not news for its owner."""
    threshold = settings.PHOENIX_TOKENS_LOW_THRESHOLD
    if threshold <= 0 or entry.kind == LedgerEntry.Kind.FORFEIT:
        return
    if before >= threshold > account.balance:
        signals.announce_balance_low(
            user_id=account.user_id,
            balance=account.balance,
            threshold=threshold,
            entry_id=entry.pk,
        )


def _settle_debt(account: TokenAccount, lot: CreditLot, *, purchase=None) -> None:
    """Debt is paid first from tokens that come in: from `lot`, as far as it goes."""
    paid = min(account.debt, lot.remaining)
    if paid <= 0:
        return
    lot.remaining -= paid
    lot.save(update_fields=["remaining"])
    account.debt -= paid
    _write(account, kind=LedgerEntry.Kind.DEBT_PAYMENT, amount=-paid, lot=lot, purchase=purchase)


def _tell_after_commit(entry: LedgerEntry) -> LedgerEntry:
    """Tell the creator (notifications listen) once the entry is committed."""
    transaction.on_commit(lambda: tokens_given.send_robust(sender=LedgerEntry, entry=entry))
    return entry


def _credit(
    account: TokenAccount,
    *,
    kind: str,
    amount: int,
    category: str = CreditLot.Category.PROMO,
    expires_at: datetime.datetime | None = None,
    purchase: Purchase | None = None,
    **entry_fields,
) -> LedgerEntry:
    """Tokens in: a new lot and its ledger row, then any debt paid from it."""
    lot = CreditLot.objects.create(
        account=account,
        category=category,
        granted=amount,
        remaining=amount,
        expires_at=expires_at,
        purchase=purchase,
    )
    entry = _write(account, kind=kind, amount=amount, lot=lot, purchase=purchase, **entry_fields)
    _settle_debt(account, lot, purchase=purchase)
    return entry


# Tokens out (a debit, a negative adjustment, a forfeit) in one statement: the new balance,
# the ledger row, and the draws from the lots in CreditLot.DRAW_ORDER (each lot gives
# min(what it holds, what is still owed once the lots before it gave theirs)). Written out
# because the ORM's five statements (update, insert, select the lots, update a lot, insert
# its draw) were a third of a create's time (make bench); prepared (phoenix.db), as its
# planning cost as much as running it. The caller holds the account lock (and so every
# lot's); a statement's parts share one snapshot, which is why the lots are picked by a
# running sum rather than one by one.
_TAKE_SQL = """
WITH account AS (
  UPDATE {account} SET balance = %s, updated_at = %s WHERE id = %s
), entry AS (
  INSERT INTO {ledger} (account_id, kind, amount, balance_after, creation_id, reason, staff_id,
                        purchase_id, lot_id, request_key, created_at)
  VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, %s, %s)
  RETURNING id
), spendable AS (
  SELECT id, remaining, sum(remaining) OVER (ORDER BY {draw_order}) - remaining AS before
  FROM {lot} WHERE account_id = %s AND remaining > 0
), drawn AS (
  UPDATE {lot} AS lot SET remaining = lot.remaining - part.amount
  FROM (
    SELECT id, before, LEAST(remaining, %s - before)::bigint AS amount
    FROM spendable WHERE before < %s
  ) AS part
  WHERE lot.id = part.id
  RETURNING lot.id, part.before, part.amount
), draws AS (
  -- In the draw-down order, as the draws were made one by one before.
  INSERT INTO {draw} (entry_id, lot_id, amount)
  SELECT entry.id, drawn.id, drawn.amount FROM entry, drawn ORDER BY drawn.before
  RETURNING amount
)
SELECT entry.id, (SELECT coalesce(sum(amount), 0) FROM draws) FROM entry
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


@functools.cache
def _take_sql() -> tuple[str, tuple]:
    # The draw-down order as the ORM writes it from CreditLot.DRAW_ORDER (its one home).
    lots = CreditLot.objects.order_by(*CreditLot.DRAW_ORDER).query
    sql, params = lots.get_compiler(connection=connection).as_sql()
    statement = _TAKE_SQL.format(
        account=TokenAccount._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
        lot=CreditLot._meta.db_table,
        draw=LotDraw._meta.db_table,
        draw_order=sql.split(" ORDER BY ", 1)[1],
    )
    return statement, tuple(params)


def _take(
    account: TokenAccount,
    *,
    kind: str,
    amount: int,
    creation=None,
    reason: str = "",
    staff=None,
    request_key: str | None = None,
) -> LedgerEntry:
    """Take `amount` tokens out of the account, its ledger row (kind, -amount) and its lots
    (the draw-down order, each lot's part recorded on the row). The caller holds the lock
    and has checked the balance (the constraints refuse a negative one)."""
    before = account.balance
    now = timezone.now()
    account.balance -= amount
    account.updated_at = now
    statement, order_params = _take_sql()
    creation_id = creation.pk if creation is not None else None
    staff_id = staff.pk if staff is not None else None
    with prepared_cursor() as cursor:
        cursor.execute(
            statement,
            [
                *(account.balance, now, account.pk),
                *(account.pk, kind, -amount, account.balance, creation_id, reason, staff_id),
                *(request_key, now),
                *order_params,
                *(account.pk, amount, amount),
            ],
        )
        entry_id, drawn = cursor.fetchone()
    entry = LedgerEntry(
        pk=entry_id,
        account=account,
        kind=kind,
        amount=-amount,
        balance_after=account.balance,
        creation=creation,
        reason=reason,
        staff=staff,
        request_key=request_key,
        created_at=now,
    )
    entry._state.adding = False
    entry._state.db = connection.alias
    if drawn < amount:
        _draw_outside_the_lots(account, entry, amount - drawn)
    _tell_if_low(account, before=before, entry=entry)
    return entry


def _draw_outside_the_lots(account: TokenAccount, entry: LedgerEntry, left: int) -> None:
    """The lots held less than the balance: tokens credited without a lot (by code from
    before lots, still running during the deploy that added them). As the migration did,
    what the balance holds beyond its lots becomes one promo lot, no expiry; the rest of the
    entry is drawn from it."""
    unlotted = account.balance + left
    log.warning("Account %s held %s tokens outside any lot", account.pk, unlotted)
    lot = CreditLot.objects.create(
        account=account,
        category=CreditLot.Category.PROMO,
        granted=unlotted,
        remaining=unlotted - left,
    )
    LotDraw.objects.create(entry=entry, lot=lot, amount=left)


def welcome_expiry() -> datetime.datetime | None:
    days = settings.PHOENIX_WELCOME_TOKENS_EXPIRE_DAYS
    return timezone.now() + datetime.timedelta(days=days) if days > 0 else None


@transaction.atomic
def account_open(*, user: AbstractBaseUser) -> TokenAccount:
    """Create the user's account with the welcome grant (once)."""
    account = _locked_account(user)
    if not account.entries.filter(kind=LedgerEntry.Kind.GRANT, reason="welcome").exists():
        amount = settings.PHOENIX_WELCOME_TOKENS
        if amount > 0:
            _credit(
                account,
                kind=LedgerEntry.Kind.GRANT,
                amount=amount,
                expires_at=welcome_expiry(),
                reason="welcome",
            )
    return account


class WelcomeClaim(Protocol):
    """An address's one welcome, as the app that knows addresses records it (profiles)."""

    def taken(self) -> bool:
        """The address has had its welcome already (on any account)."""

    def take(self, entry: LedgerEntry) -> None:
        """Record the address's welcome with its grant; IntegrityError if another account
        just did."""


@transaction.atomic
def account_grant_welcome(*, user: AbstractBaseUser, claim: WelcomeClaim) -> LedgerEntry | None:
    """The welcome grant for an address its owner has just confirmed: at most once per
    address (the claim), ever, and once per account. The grant and the address's record
    are written together; None when the address or the account has had its welcome
    already.

    Two confirmations at once: of one account, they queue on its lock and the second sees
    the first's grant; of one address on two accounts, the address's unique constraint
    refuses the second, whose grant is rolled back with it.
    """
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
    if claim.taken():
        return None
    try:
        with transaction.atomic():
            entry = _credit(
                account,
                kind=LedgerEntry.Kind.GRANT,
                amount=amount,
                expires_at=welcome_expiry(),
                reason="welcome",
            )
            claim.take(entry)
    except IntegrityError:
        # Another account confirmed this address at the same moment, and got there first.
        account.refresh_from_db(fields=["balance"])
        return None
    return _tell_after_commit(entry)


@transaction.atomic
def account_grant(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    expires_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """A promo lot of `amount` tokens (staff, contests), expiring at `expires_at` if given."""
    if amount <= 0:
        raise ValueError("A grant must be a positive number of tokens.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("A grant's expiry must be in the future.")
    account = _locked_account(user)
    entry = _credit(
        account, kind=LedgerEntry.Kind.GRANT, amount=amount, expires_at=expires_at, reason=reason
    )
    return _tell_after_commit(entry)


@transaction.atomic
def account_adjust(
    *,
    user: AbstractBaseUser,
    amount: int,
    reason: str,
    staff: AbstractBaseUser,
    request_key: str | None = None,
    expires_at: datetime.datetime | None = None,
) -> LedgerEntry:
    """A staff member's signed correction; never takes the balance below zero. Tokens
    added are a promo lot (expiring at `expires_at` if given); tokens taken away are drawn
    from the lots as a debit is.

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
    fields = {"reason": reason.strip(), "staff": staff, "request_key": request_key}
    if amount > 0:
        entry = _credit(
            account,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amount=amount,
            expires_at=expires_at,
            **fields,
        )
        return _tell_after_commit(entry)
    entry = _take(account, kind=LedgerEntry.Kind.ADJUSTMENT, amount=-amount, **fields)
    return _tell_after_commit(entry)


@transaction.atomic
def account_forfeit(*, user: AbstractBaseUser, reason: str) -> LedgerEntry | None:
    """Take the whole balance away (its owner deleted the account: unspent tokens are
    forfeited), as a ledger row, so the balance stays the sum of the ledger. None when
    there was nothing left."""
    account = _locked_account(user)
    if account.balance <= 0:
        return None
    # Out of the lots too (the draw-down order, as a debit), so the lots still add up to
    # the balance: every spendable lot ends empty. A frozen part stays with its dispute.
    return _take(account, kind=LedgerEntry.Kind.FORFEIT, amount=account.balance, reason=reason)


def account_debit_locked(account: TokenAccount, *, amount: int, creation) -> LedgerEntry:
    """Debit an account the caller has already locked (inside the caller's transaction)."""
    if account.balance < amount:
        raise InsufficientTokens(balance=account.balance, needed=amount)
    return _take(
        account, kind=LedgerEntry.Kind.DEBIT, amount=amount, creation=creation, reason=creation.kind
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
            refund = _write(
                account,
                kind=LedgerEntry.Kind.REFUND,
                amount=-debit.amount,
                creation=creation,
                reason=reason.strip()[:255],
                staff=staff,
            )
            _return_draws(account, debit)
            return refund
    except IntegrityError:
        # The unique constraint caught a second refund that slipped past the check.
        account.refresh_from_db(fields=["balance"])
        return None


def _return_draws(account: TokenAccount, debit: LedgerEntry) -> None:
    """Give a refunded debit's tokens back to the lots it drew them from (an expired lot
    gets them too, and the next expiry run takes them), paying any debt first."""
    draws = list(debit.draws.select_related("lot"))
    returned = sum(draw.amount for draw in draws)
    for draw in draws:
        draw.lot.remaining += draw.amount
        draw.lot.save(update_fields=["remaining"])
    missing = -debit.amount - returned
    if missing > 0:
        # A debit from before credit lots (0004_credit_lots) drew from none: a new lot.
        CreditLot.objects.create(
            account=account,
            category=CreditLot.Category.PROMO,
            granted=missing,
            remaining=missing,
        )
    for draw in draws:
        _settle_debt(account, draw.lot)


# --- Expiry -----------------------------------------------------------------------------


def lot_expire(*, lot_id: int, now: datetime.datetime) -> int:
    """Take an expired lot's remaining tokens out by a ledger row; 0 if there are none
    (already expired, spent, or not due): running it twice changes nothing."""
    with transaction.atomic():
        account_id = CreditLot.objects.values_list("account_id", flat=True).get(pk=lot_id)
        account = TokenAccount.objects.select_for_update().get(pk=account_id)
        lot = CreditLot.objects.get(pk=lot_id)
        if lot.remaining <= 0 or lot.expires_at is None or lot.expires_at > now:
            return 0
        # The lots may hold more than the balance (tokens debited by code from before lots,
        # still running during the deploy that added them): never below zero; the lot ends
        # empty, as the balance says.
        expired = min(lot.remaining, account.balance)
        if expired < lot.remaining:
            log.warning(
                "Lot %s held %s tokens, account %s only %s: %s expired, the lot emptied",
                lot.pk,
                lot.remaining,
                account.pk,
                account.balance,
                expired,
            )
        lot.remaining = 0
        lot.save(update_fields=["remaining"])
        if expired:
            _write(account, kind=LedgerEntry.Kind.EXPIRY, amount=-expired, lot=lot)
        return expired


def lots_expire(*, now: datetime.datetime) -> int:
    """Every lot past its expiry, each in its own short transaction; the tokens taken. A lot
    that fails is logged and left for the next run: it never stops the others."""
    expired = 0
    failed: set[int] = set()
    while lot_ids := expired_lot_ids(now=now, exclude=failed):
        for lot_id in lot_ids:
            try:
                expired += lot_expire(lot_id=lot_id, now=now)
            except Exception:
                log.exception("Lot %s not expired", lot_id)
                failed.add(lot_id)
    return expired
