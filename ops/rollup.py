"""Running sums for the figures, so that a scrape, an alert run or the analytics page costs
the same at ten million ledger rows as at ten thousand.

A periodic job (`rollup_run`, phoenix/cron.py) adds what happened since its last run to
small tables (ops.models: LedgerKindTotal, LedgerAccountTotal, LedgerSpendDay, CreationDay,
FailureReasonDay, UnrefundedCreation). A figure is read as the rollup plus the tail: the
rows the rollup has not reached yet, read through an index range (the ledger's primary key
above the watermark; creations by (status, created_at) from the horizon on). Each reader is
one SQL statement, so it sees the rollup and its tail in one snapshot, and the rollup moves
its sums and its watermark in one transaction: a row is in exactly one of the two.

The ledger is append-only and its ids grow, but they are handed out before COMMIT: a
transaction may take id 100, another take 101 and commit first. A watermark moved to 101
then would miss 100 forever. So the watermark moves in two steps:
1. A run reads the largest id there is (`high`), then the transactions holding a write lock
   on the ledger table (pg_locks: every INSERT takes ROW EXCLUSIVE on the table before it
   draws its id, and keeps it to COMMIT or ROLLBACK). Any row with an id up to `high` that
   is not visible yet belongs to one of them.
2. Once none of those transactions is alive (this run if there were none, else a later
   run), every row up to `high` is committed or will never be: the rows in
   (watermark, high] are added to the sums and the watermark moves to `high`.
No row is counted twice (each id range is added once, in the transaction that moves the
watermark past it) and none is missed (a row below the watermark was visible when its
range was added). Nothing blocks a writer: the job only reads pg_locks.

Creations change after they are inserted (their status), so their rollup covers the
creations that can no longer change what is counted: the horizon is older than every
creation in flight (pending, processing) and than now minus HORIZON_LAG (a creation is
inserted in a short transaction, with its created_at taken just before). Before the
horizon, a creation is over: whether it reached draft and whether it failed (and why) are
final (failed and canceled have no way out in Creation.TRANSITIONS). Its refund is not
(staff may still write a missing one), so the unrefunded ones are kept by id and looked at
again by each read.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from creations.models import Creation
from tokens.models import LedgerEntry, TokenAccount
from tokens.services import Discrepancy

from .models import (
    CreationDay,
    FailureReasonDay,
    LedgerAccountTotal,
    LedgerKindTotal,
    LedgerSpendDay,
    RollupState,
    UnrefundedCreation,
)

# Ledger ids added per transaction: a first run over a big ledger goes in steps that each
# hold their locks briefly.
LEDGER_BATCH = 100_000
# Days of creations added per transaction (the first run over a long history).
CREATION_BATCH = timedelta(days=7)
# A creation is inserted well within this of its created_at.
HORIZON_LAG = timedelta(minutes=10)

LEDGER = LedgerEntry._meta.db_table
CREATIONS = Creation._meta.db_table
STATE = RollupState._meta.db_table
STATUSES = list(Creation.Status.values)
SPENDING = [LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND]

# Where a reader's SQL has the watermark and the horizon: _read() puts them in as constants.
WATERMARK_SQL = "__WATERMARK__"
HORIZON_SQL = "__HORIZON__"
# A reader that finds the rollup moved while it read tries again (a rollup step is a few
# milliseconds once a minute: a second try is rare, a tenth means something is wrong).
READ_TRIES = 10


def _day_sql(column: str) -> str:
    """The calendar day of a timestamp in the current time zone (as TruncDate does)."""
    return f"({column} AT TIME ZONE %s)::date"


def _tz() -> str:
    return timezone.get_current_timezone_name()


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _marks() -> tuple[int, datetime | None]:
    rows = _rows(f"SELECT ledger_watermark, creations_horizon FROM {STATE} WHERE id = 1")  # nosec B608
    return rows[0] if rows else (0, None)


def _read(sql: str, params=()) -> list[tuple]:
    """A reader's one statement, with the watermark and the horizon written in as constants:
    a subquery would hide from the planner how small the tail is, and it plans a scan of the
    whole table (measured: 26 ms instead of 1 at a million rows). The marks are read before
    and after; both only grow, and the sums move with them in one transaction, so equal
    marks mean the statement saw the sums that go with them."""
    for _ in range(READ_TRIES):
        marks = _marks()
        watermark, horizon = marks
        # Our own integer and timestamp, not input: safe to write into the text.
        moment = f"'{horizon.isoformat()}'::timestamptz" if horizon else "'-infinity'::timestamptz"
        text = sql.replace(WATERMARK_SQL, str(int(watermark))).replace(HORIZON_SQL, moment)
        rows = _rows(text, params)
        if _marks() == marks:
            return rows
    raise RuntimeError(f"The rollup moved during each of {READ_TRIES} reads.")


def _locked_state() -> RollupState:
    RollupState.objects.bulk_create([RollupState(id=1)], ignore_conflicts=True)
    return RollupState.objects.select_for_update().get(id=1)


# --- The ledger -----------------------------------------------------------------------


def ledger_writers() -> list[str]:
    """Virtual transaction ids of the transactions (other than this one) holding a write
    lock on the ledger table, granted or waited for."""
    sql = (
        "SELECT DISTINCT virtualtransaction FROM pg_locks "
        "WHERE locktype = 'relation' AND relation = %s::regclass "
        "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
    )
    return sorted(v for (v,) in _rows(sql, [LEDGER]))


def transactions_alive(vxids: list[str]) -> bool:
    """Whether any of these transactions is still running (each holds its own virtual
    transaction id's lock until it ends)."""
    if not vxids:
        return False
    sql = "SELECT 1 FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s) LIMIT 1"
    return bool(_rows(sql, [vxids]))


def _ledger_add(low: int, high: int) -> None:
    """Add the ledger rows with low < id <= high to the sums."""
    tz = _tz()
    kind = LedgerKindTotal._meta.db_table
    account = LedgerAccountTotal._meta.db_table
    spend = LedgerSpendDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {kind} AS t (kind, entries, plus, minus) "  # nosec B608
            "SELECT kind, count(*), COALESCE(sum(amount) FILTER (WHERE amount > 0), 0), "
            f"COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0) FROM {LEDGER} "
            "WHERE id > %s AND id <= %s GROUP BY kind "
            "ON CONFLICT (kind) DO UPDATE SET entries = t.entries + EXCLUDED.entries, "
            "plus = t.plus + EXCLUDED.plus, minus = t.minus + EXCLUDED.minus",
            [low, high],
        )
        cursor.execute(
            f"INSERT INTO {account} AS t (account_id, ledger_sum) "  # nosec B608
            f"SELECT account_id, sum(amount) FROM {LEDGER} "
            "WHERE id > %s AND id <= %s GROUP BY account_id "
            "ON CONFLICT (account_id) "
            "DO UPDATE SET ledger_sum = t.ledger_sum + EXCLUDED.ledger_sum",
            [low, high],
        )
        cursor.execute(
            f"INSERT INTO {spend} AS t (day, account_id, spent, debits, refunds, refunded) "  # nosec B608
            f"SELECT {_day_sql('created_at')}, account_id, -sum(amount), "
            "count(*) FILTER (WHERE kind = %s), count(*) FILTER (WHERE kind = %s), "
            "COALESCE(sum(amount) FILTER (WHERE kind = %s), 0) "
            f"FROM {LEDGER} WHERE id > %s AND id <= %s AND kind = ANY(%s) GROUP BY 1, 2 "
            "ON CONFLICT (day, account_id) DO UPDATE SET spent = t.spent + EXCLUDED.spent, "
            "debits = t.debits + EXCLUDED.debits, refunds = t.refunds + EXCLUDED.refunds, "
            "refunded = t.refunded + EXCLUDED.refunded",
            [tz, LedgerEntry.Kind.DEBIT, LedgerEntry.Kind.REFUND, LedgerEntry.Kind.REFUND]
            + [low, high, SPENDING],
        )


def ledger_rollup_step() -> bool:
    """One step of the ledger rollup, in one transaction. True when there may be more to
    do right away."""
    with transaction.atomic():
        state = _locked_state()
        if state.ledger_pending_high > state.ledger_watermark:
            if transactions_alive(state.ledger_pending_writers):
                return False
            high = min(state.ledger_pending_high, state.ledger_watermark + LEDGER_BATCH)
            _ledger_add(state.ledger_watermark, high)
            state.ledger_watermark = high
            if high == state.ledger_pending_high:
                state.ledger_pending_writers = []
            state.ran_at = timezone.now()
            state.save()
            return True
        # Read `high` first, the writers second: see the module's docstring.
        high = LedgerEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        if high <= state.ledger_watermark:
            return False
        state.ledger_pending_high = high
        state.ledger_pending_writers = ledger_writers()
        state.ran_at = timezone.now()
        state.save()
        return not state.ledger_pending_writers


# --- Creations --------------------------------------------------------------------------


def creations_horizon_now(*, now: datetime) -> datetime:
    """The latest horizon possible now: older than every creation in flight."""
    oldest = (
        Creation.objects.filter(status__in=Creation.IN_FLIGHT)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    latest = now - HORIZON_LAG
    return min(latest, oldest) if oldest else latest


def _creations_add(low: datetime, high: datetime) -> None:
    """Add the creations started in [low, high) to the day rollups, and keep those ended
    without media and without a refund."""
    tz = _tz()
    # status = ANY(every status): the (status, created_at) index serves the range.
    where = "status = ANY(%s) AND created_at >= %s AND created_at < %s"
    refunded = (
        f"EXISTS (SELECT 1 FROM {LEDGER} AS refund "  # nosec B608
        f"WHERE refund.creation_id = c.id AND refund.kind = %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CreationDay._meta.db_table} AS t "  # nosec B608
            "(day, kind, created, succeeded, ended) "
            f"SELECT {_day_sql('created_at')}, kind, count(*), "
            "count(*) FILTER (WHERE draft_at IS NOT NULL), "
            "count(*) FILTER (WHERE draft_at IS NOT NULL OR status = %s) "
            f"FROM {CREATIONS} c WHERE {where} GROUP BY 1, 2 "
            "ON CONFLICT (day, kind) DO UPDATE SET created = t.created + EXCLUDED.created, "
            "succeeded = t.succeeded + EXCLUDED.succeeded, ended = t.ended + EXCLUDED.ended",
            [tz, Creation.Status.FAILED, STATUSES, low, high],
        )
        cursor.execute(
            f"INSERT INTO {FailureReasonDay._meta.db_table} AS t "  # nosec B608
            "(day, error_code, failures) "
            f"SELECT {_day_sql('created_at')}, error_code, count(*) "
            f"FROM {CREATIONS} c WHERE status = %s AND created_at >= %s AND created_at < %s "
            "GROUP BY 1, 2 ON CONFLICT (day, error_code) "
            "DO UPDATE SET failures = t.failures + EXCLUDED.failures",
            [tz, Creation.Status.FAILED, low, high],
        )
        cursor.execute(
            f"INSERT INTO {UnrefundedCreation._meta.db_table} (creation_id) "  # nosec B608
            f"SELECT id FROM {CREATIONS} c WHERE status = ANY(%s) "
            f"AND created_at >= %s AND created_at < %s AND NOT {refunded} "
            "ON CONFLICT DO NOTHING",
            [list(Creation.ENDED_WITHOUT_MEDIA), low, high, LedgerEntry.Kind.REFUND],
        )


def creations_rollup_step(*, now: datetime | None = None) -> bool:
    """Move the creations' horizon forward by at most CREATION_BATCH, in one transaction.
    True when there may be more to do right away."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_state()
        start = state.creations_horizon or (
            Creation.objects.filter(status__in=STATUSES)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        target = creations_horizon_now(now=now)
        if start is None or target <= start:
            return False
        high = min(target, start + CREATION_BATCH)
        _creations_add(start, high)
        # A refund written since: no longer owed.
        UnrefundedCreation.objects.filter(
            creation_id__in=LedgerEntry.objects.filter(
                kind=LedgerEntry.Kind.REFUND,
                creation_id__in=UnrefundedCreation.objects.values("creation_id"),
            ).values("creation_id")
        ).delete()
        state.creations_horizon = high
        state.ran_at = now
        state.save()
        return high < target


def rollup_run(*, max_steps: int = 100, now: datetime | None = None) -> dict:
    """Bring the rollups up to date (the cron job). Each step is its own transaction."""
    steps = {"ledger": 0, "creations": 0}
    for name, step in (
        ("ledger", ledger_rollup_step),
        ("creations", lambda: creations_rollup_step(now=now)),
    ):
        while steps[name] < max_steps:
            steps[name] += 1
            if not step():
                break
    return steps


# --- Reading: the rollup plus its tail, in one statement each -----------------------------


def ledger_kind_totals() -> dict[str, tuple[int, int]]:
    """{ledger kind: (rows, tokens moved, unsigned)} over the whole ledger: the same figures
    as tokens.selectors.tokens_moved_by_kind, from the rollup and the rows since."""
    totals = {kind: (0, 0) for kind in LedgerEntry.Kind.values}
    sql = (
        "SELECT kind, sum(entries), sum(plus), sum(minus) FROM ("  # nosec B608
        f"SELECT kind, entries, plus, minus FROM {LedgerKindTotal._meta.db_table} "
        "UNION ALL SELECT kind, count(*), COALESCE(sum(amount) FILTER (WHERE amount > 0), 0), "
        f"COALESCE(-sum(amount) FILTER (WHERE amount < 0), 0) FROM {LEDGER} "
        f"WHERE id > {WATERMARK_SQL} GROUP BY kind) AS parts GROUP BY kind"
    )
    for kind, n, plus, minus in _read(sql):
        totals[kind] = (int(n), int(plus + minus))
    return totals


def ledger_discrepancies() -> list[Discrepancy]:
    """Every account whose balance is not the sum of its ledger (as
    tokens.services.ledger_discrepancies), from the rollup and the rows since: one pass over
    the accounts, none over the ledger."""
    sql = (
        "SELECT a.id, a.balance, COALESCE(r.ledger_sum, 0) + COALESCE(tail.amount, 0) "  # nosec B608
        f"FROM {TokenAccount._meta.db_table} a "
        f"LEFT JOIN {LedgerAccountTotal._meta.db_table} r ON r.account_id = a.id "
        f"LEFT JOIN (SELECT account_id, sum(amount) AS amount FROM {LEDGER} "
        f"WHERE id > {WATERMARK_SQL} GROUP BY account_id) tail ON tail.account_id = a.id "
        "WHERE a.balance <> COALESCE(r.ledger_sum, 0) + COALESCE(tail.amount, 0) ORDER BY a.id"
    )
    rows = _read(sql)
    if not rows:
        return []
    names = {
        account.id: account.user.get_username()
        for account in TokenAccount.objects.select_related("user").filter(
            id__in=[r[0] for r in rows]
        )
    }
    return [Discrepancy(i, names.get(i, "?"), balance, int(total)) for i, balance, total in rows]


def unrefunded_failure_count() -> int:
    """Creations ended without media (failed or canceled) with no refund, all time: the
    ones kept by the rollup that still have none, and those started since its horizon."""
    refunded = (
        f"EXISTS (SELECT 1 FROM {LEDGER} AS refund "  # nosec B608
        f"WHERE refund.creation_id = c.id AND refund.kind = %s)"
    )
    sql = (
        "SELECT (SELECT count(*) FROM "  # nosec B608
        f"{UnrefundedCreation._meta.db_table} u JOIN {CREATIONS} c ON c.id = u.creation_id "
        f"WHERE c.status = ANY(%s) AND NOT {refunded}) + (SELECT count(*) FROM {CREATIONS} c "
        f"WHERE c.status = ANY(%s) AND c.created_at >= {HORIZON_SQL} AND NOT {refunded})"
    )
    ended = list(Creation.ENDED_WITHOUT_MEDIA)
    kind = LedgerEntry.Kind.REFUND
    return int(_read(sql, [ended, kind, ended, kind])[0][0])


@dataclass(frozen=True)
class DaySpending:
    spent: int  # debits minus refunds, in tokens
    refunds: int  # refund rows
    refunded: int  # tokens given back


def spending_by_day(*, since: datetime) -> dict:
    """{day: DaySpending} from `since` (a midnight) on, days with a debit or refund only."""
    first = timezone.localtime(since).date()
    refund = LedgerEntry.Kind.REFUND
    sql = (
        "SELECT day, sum(spent), sum(refunds), sum(refunded) FROM ("  # nosec B608
        "SELECT day, spent, refunds, refunded "
        f"FROM {LedgerSpendDay._meta.db_table} WHERE day >= %s "
        f"UNION ALL SELECT {_day_sql('created_at')}, -amount, "
        "CASE WHEN kind = %s THEN 1 ELSE 0 END, CASE WHEN kind = %s THEN amount ELSE 0 END "
        f"FROM {LEDGER} WHERE id > {WATERMARK_SQL} AND created_at >= %s AND kind = ANY(%s)"
        ") AS parts GROUP BY day"
    )
    return {
        day: DaySpending(int(spent), int(n), int(tokens))
        for day, spent, n, tokens in _read(sql, [first, _tz(), refund, refund, since, SPENDING])
    }


def top_spenders(*, since: datetime, limit: int = 10) -> list[dict]:
    """The accounts that spent most from `since` (a midnight) on: [{user_id, username,
    tokens_spent, creations (debits)}], most spent first."""
    first = timezone.localtime(since).date()
    users = get_user_model()._meta.db_table
    sql = (
        "SELECT a.user_id, u.username, s.spent, s.debits FROM ("  # nosec B608
        "SELECT account_id, sum(spent) AS spent, sum(debits) AS debits FROM ("
        f"SELECT account_id, spent, debits FROM {LedgerSpendDay._meta.db_table} "
        "WHERE day >= %s UNION ALL SELECT account_id, -amount, "
        f"CASE WHEN kind = %s THEN 1 ELSE 0 END FROM {LEDGER} "
        f"WHERE id > {WATERMARK_SQL} AND created_at >= %s AND kind = ANY(%s)"
        ") AS parts GROUP BY account_id) s "
        f"JOIN {TokenAccount._meta.db_table} a ON a.id = s.account_id "
        f"JOIN {users} u ON u.id = a.user_id ORDER BY s.spent DESC, u.username LIMIT %s"
    )
    params = [first, LedgerEntry.Kind.DEBIT, since, SPENDING, limit]
    return [
        {"user_id": user_id, "username": name, "tokens_spent": int(spent), "creations": int(n)}
        for user_id, name, spent, n in _read(sql, params)
    ]


def creation_days(*, since: datetime) -> list[tuple]:
    """[(day, kind, created, succeeded, ended)] of the creations started from `since` (a
    midnight) on: the rollup's days, and the creations since its horizon."""
    first = timezone.localtime(since).date()
    tz = _tz()
    sql = (
        "SELECT day, kind, sum(created), sum(succeeded), sum(ended) FROM ("  # nosec B608
        f"SELECT day, kind, created, succeeded, ended FROM {CreationDay._meta.db_table} "
        f"WHERE day >= %s UNION ALL SELECT {_day_sql('created_at')}, kind, 1, "
        "CASE WHEN draft_at IS NOT NULL THEN 1 ELSE 0 END, "
        "CASE WHEN draft_at IS NOT NULL OR status = %s THEN 1 ELSE 0 END "
        f"FROM {CREATIONS} WHERE status = ANY(%s) AND created_at >= GREATEST(%s, {HORIZON_SQL})"
        ") AS parts GROUP BY day, kind"
    )
    return [
        (day, kind, int(c), int(s), int(e))
        for day, kind, c, s, e in _read(sql, [first, tz, Creation.Status.FAILED, STATUSES, since])
    ]


def failure_reasons(*, since: datetime) -> list[tuple[str, int]]:
    """[(error code, failures)] of the creations started from `since` (a midnight) on, most
    first."""
    first = timezone.localtime(since).date()
    sql = (
        "SELECT error_code, sum(failures) AS n FROM ("  # nosec B608
        f"SELECT error_code, failures FROM {FailureReasonDay._meta.db_table} WHERE day >= %s "
        f"UNION ALL SELECT error_code, 1 FROM {CREATIONS} "
        f"WHERE status = %s AND created_at >= GREATEST(%s, {HORIZON_SQL})"
        ") AS parts GROUP BY error_code ORDER BY n DESC, error_code"
    )
    return [(code, int(n)) for code, n in _read(sql, [first, Creation.Status.FAILED, since])]
