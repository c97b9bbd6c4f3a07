from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import BooleanField, Count, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import CreditLot, LedgerEntry, Purchase, TokenAccount, TokenPack


def balance_of(user: AbstractBaseUser) -> int:
    """The user's current balance in one small query (0 without an account)."""
    return (
        TokenAccount.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0
    )


def balance_sql(user_param: str) -> str:
    """The same read as SQL for a raw statement that reads other figures with it (NULL
    without an account): `user_param` is the placeholder of the user's id."""
    # The table name from model metadata; the id is the caller's bound parameter.
    return f"(SELECT balance FROM {TokenAccount._meta.db_table} WHERE user_id = {user_param})"  # nosec B608


# --- Refunds: the one reading of "is this creation refunded" -----------------------------
# A creation is refunded when the ledger holds its refund row (at most one: the database's
# one_refund_per_creation constraint). Writing one is tokens.services' job, under lock.


def refunds():
    return LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND)


# Both readings are a scalar subquery (one index probe per creation), not EXISTS: PostgreSQL
# may run an EXISTS as one hash of every refund in the ledger, chosen on a row estimate. It
# did for a 10-draft page: 13 ms reading 30,000 refunds, growing with the ledger.


def refund_exists(creation_ref: str = "pk") -> Coalesce:
    """For annotating creations: `.annotate(refunded=refund_exists())`."""
    probe = refunds().filter(creation_id=OuterRef(creation_ref)).values(yes=Value(True))[:1]
    return Coalesce(Subquery(probe, output_field=BooleanField()), Value(False))


def refunded_sql(creations_table: str) -> tuple[str, list]:
    """The same test as SQL for a raw query over `creations_table`: (expression, params)."""
    # Table names from model metadata; the kind is a bound parameter.
    sql = (
        f"((SELECT true FROM {LedgerEntry._meta.db_table} AS refund "  # nosec B608
        f"WHERE refund.creation_id = {creations_table}.id AND refund.kind = %s LIMIT 1) "
        "IS NOT NULL)"
    )
    return sql, [LedgerEntry.Kind.REFUND]


def creation_is_refunded(creation) -> bool:
    return refunds().filter(creation_id=creation.pk).exists()


def tokens_moved_by_kind() -> dict[str, tuple[int, int]]:
    """{ledger kind: (rows, tokens moved, unsigned)} over the whole ledger (append-only, so
    each only grows: Prometheus counters)."""
    totals = {kind: (0, 0) for kind in LedgerEntry.Kind.values}
    rows = (
        LedgerEntry.objects.order_by()
        .values_list("kind")
        .annotate(n=Count("id"), plus=Sum("amount", filter=Q(amount__gt=0), default=0))
        .annotate(minus=Sum("amount", filter=Q(amount__lt=0), default=0))
    )
    for kind, n, plus, minus in rows:
        totals[kind] = (n, plus - minus)
    return totals


def accounts_with_ledger_sums(*, after: int = 0, limit: int = 1000) -> list[TokenAccount]:
    """One batch of the reconciliation: up to `limit` accounts with an id above `after`, in
    id order, each with `ledger_sum`, the sum of its ledger. Keyset batches (no server-side
    cursor, so it works behind PgBouncer), the sums read per account through the ledger's
    account index; an account's balance and its sum come from one statement, so a movement
    committing meanwhile is in both or in neither."""
    per_account = (
        LedgerEntry.objects.filter(account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    # And `lot_sum`, the sum of its lots' remainders (the balance too).
    lots = (
        CreditLot.objects.filter(account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(total=Sum("remaining"))
        .values("total")
    )
    return list(
        TokenAccount.objects.filter(id__gt=after)
        .select_related("user")
        .annotate(
            ledger_sum=Coalesce(Subquery(per_account), 0),
            lot_sum=Coalesce(Subquery(lots), 0),
        )
        .order_by("id")[:limit]
    )


# --- The creator's token history ---------------------------------------------------------

HISTORY_PAGE_SIZE = 25


def ledger_history(*, user: AbstractBaseUser):
    """The user's own ledger rows, newest first, each with its creation in the same query
    (a purged or deleted creation too: the ledger outlives it). Starts from the user's
    account, so no other account's row can be in it."""
    return (
        LedgerEntry.objects.filter(account__user_id=user.pk)
        .select_related("creation", "purchase__pack")
        .order_by("-created_at", "-id")
    )


def ledger_history_page(*, user: AbstractBaseUser, number) -> Page:
    """One page of ledger_history: a number past the end gives the last page, anything
    that is not a number the first (Paginator.get_page)."""
    return Paginator(ledger_history(user=user), HISTORY_PAGE_SIZE).get_page(number)


# --- Lots, packs and purchases -----------------------------------------------------------


def spendable_lots(*, user: AbstractBaseUser) -> list[CreditLot]:
    """The user's lots that hold tokens, in the order debits draw from them."""
    return list(
        CreditLot.objects.filter(account__user_id=user.pk, remaining__gt=0).order_by(
            *CreditLot.DRAW_ORDER
        )
    )


def debt_of(user: AbstractBaseUser) -> int:
    return TokenAccount.objects.filter(user_id=user.pk).values_list("debt", flat=True).first() or 0


def balance_and_debt(user: AbstractBaseUser) -> tuple[int, int]:
    """Both in one small query ((0, 0) without an account)."""
    row = TokenAccount.objects.filter(user_id=user.pk).values_list("balance", "debt").first()
    return row or (0, 0)


def expired_lot_ids(*, now, limit: int = 1000, exclude=()) -> list[int]:
    """Lots past their expiry that still hold tokens (the partial index lot_expiring), but
    those in `exclude`."""
    return list(
        CreditLot.objects.filter(remaining__gt=0, expires_at__lte=now)
        .exclude(pk__in=list(exclude))
        .order_by("expires_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def active_packs() -> list[TokenPack]:
    return list(TokenPack.objects.filter(active=True).order_by("ordering", "price", "id"))


def own_purchase(*, user: AbstractBaseUser, purchase_id) -> Purchase | None:
    """The user's purchase, or None: someone else's answers exactly as a missing one."""
    return (
        Purchase.objects.select_related("pack")
        .filter(pk=purchase_id, account__user_id=user.pk)
        .first()
    )


RECENT_PURCHASES = 10


def recent_purchases(*, user: AbstractBaseUser) -> list[Purchase]:
    """The user's latest purchases in any status (a pending or failed one has no ledger row)."""
    return list(
        Purchase.objects.select_related("pack")
        .filter(account__user_id=user.pk)
        .order_by("-created_at")[:RECENT_PURCHASES]
    )


# --- Reconciliation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    username: str
    balance: int
    ledger_sum: int
    # None where only the ledger was compared (the figures' rollup).
    lot_sum: int | None = None

    def __str__(self) -> str:
        text = f"{self.username} (account {self.account_id}): balance {self.balance}"
        if self.balance != self.ledger_sum:
            text += f", ledger sum {self.ledger_sum}, off by {self.balance - self.ledger_sum:+d}"
        if self.lot_sum is not None and self.lot_sum != self.balance:
            text += f", lots hold {self.lot_sum}, off by {self.balance - self.lot_sum:+d}"
        return text


def ledger_discrepancies() -> list[Discrepancy]:
    """Every account whose balance is not the sum of its ledger (the figures' check, as
    ops.rollup computes it; reconcile_tokens also compares the lots)."""
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
