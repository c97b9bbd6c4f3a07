"""The figures read from the rollups (ops.rollup) equal the same figures computed the slow
way, over the whole ledger and creations table, whatever the rollup has reached: random
data added between runs, ledger rows on past days, balances off, failures left unrefunded,
and ledger rows committed out of id order."""

import random
import threading
import uuid
from datetime import datetime, timedelta

import psycopg
import pytest
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from creations.models import Creation
from ops import analytics, jobs, outcomes, rollup
from ops.models import LedgerKindTotal, RollupState
from profiles.services import creator_signup
from tokens import services as tokens
from tokens.models import LedgerEntry, TokenAccount
from tokens.selectors import refund_exists, tokens_moved_by_kind

from .conftest import creation_in_state

STATUSES = ["pending", "processing", "draft", "published", "failed", "canceled"]


def slow_unrefunded() -> int:
    return (
        Creation.objects.filter(status__in=Creation.ENDED_WITHOUT_MEDIA)
        .annotate(refunded=refund_exists())
        .filter(refunded=False)
        .count()
    )


def slow_analytics(days: int) -> dict:
    """The analytics page's figures as they were computed before the rollups."""
    last = timezone.localdate()
    first = last - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    window = Creation.objects.filter(created_at__gte=since).order_by()
    spending = LedgerEntry.objects.filter(created_at__gte=since, kind__in=["debit", "refund"])
    per_day = window.annotate(day=TruncDate("created_at")).values_list("day")
    creators = (
        spending.order_by()
        .values_list("account__user_id", "account__user__username")
        .annotate(spent=-Sum("amount"), creations=Count("id", filter=Q(kind="debit")))
        .order_by("-spent", "account__user__username")[:10]
    )
    published = dict(
        window.filter(status__in=outcomes.PUBLISHED)
        .values_list("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return {
        "created": {d: n for d, n in per_day.annotate(n=Count("id")) if n},
        "spent": {
            d: -n
            for d, n in spending.annotate(day=TruncDate("created_at"))
            .order_by()
            .values_list("day")
            .annotate(n=Sum("amount"))
            if n
        },
        "success": {
            (d, k): (s, e)
            for d, k, s, e in per_day.values_list("day", "kind").annotate(
                s=Count("id", filter=Q(draft_at__isnull=False)),
                e=Count("id", filter=Q(draft_at__isnull=False) | Q(status="failed")),
            )
            if e
        },
        "refunds": {
            d: n
            for d, n in spending.filter(kind="refund")
            .annotate(day=TruncDate("created_at"))
            .order_by()
            .values_list("day")
            .annotate(n=Count("id"))
        },
        "refunded": spending.filter(kind="refund").aggregate(n=Sum("amount", default=0))["n"],
        "creators": [
            (user_id, name, spent, n, published.get(user_id, 0))
            for user_id, name, spent, n in creators
        ],
        "reasons": list(
            window.filter(status="failed")
            .values_list("error_code")
            .annotate(n=Count("id"))
            .order_by("-n", "error_code")
        ),
    }


def fast_analytics(days: int) -> dict:
    report = analytics.collect_analytics(days=days)
    return {
        "created": {d: n for d, n in report.creations_per_day if n},
        "spent": {d: n for d, n in report.tokens_per_day if n},
        "refunds": {d: n for d, n in report.refunds_per_day if n},
        "refunded": report.refunded_tokens,
        "success": {
            (d, k): (s.succeeded, s.ended)
            for d, by_kind in report.success_by_day
            for k, s in by_kind.items()
            if s.ended
        },
        "creators": [
            (c["user_id"], c["username"], c["tokens_spent"], c["creations"], c["published"])
            for c in report.top_creators
        ],
        "reasons": report.failure_reasons,
    }


def assert_figures_match_the_slow_way() -> None:
    assert rollup.ledger_kind_totals() == tokens_moved_by_kind()
    assert rollup.ledger_discrepancies() == tokens.ledger_discrepancies()
    assert rollup.unrefunded_failure_count() == slow_unrefunded()
    for days in analytics.ANALYTICS_DAYS:
        assert fast_analytics(days) == slow_analytics(days)


def insert_past_debit(account: TokenAccount, *, amount: int, at: datetime) -> None:
    """A debit row written on a past day (the services stamp rows with now); the balance is
    left alone, so the account is off by `amount` too."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tokens_ledgerentry (account_id, kind, amount, balance_after,"
            " creation_id, reason, created_at) VALUES (%s, 'debit', %s, 0, %s, '', %s)",
            [account.pk, -amount, uuid.uuid4(), at],
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_figures_equal_the_slow_way_on_random_data(db, seed):
    rng = random.Random(seed)
    users = [creator_signup(username=f"c{seed}-{i}", password="pw-123456789") for i in range(5)]
    for user in users:
        tokens.account_grant(user=user, amount=10_000, reason="test")
    # The clock moves on between runs, and each creation is inserted with a created_at of
    # the round's time (as in production: the horizon relies on it).
    start = timezone.now() - timedelta(days=48)
    for round_ in range(5):
        clock = start + timedelta(days=8 * (round_ + 1))
        for _ in range(rng.randint(5, 15)):
            status = rng.choice(STATUSES)
            created_at = clock - timedelta(minutes=rng.randint(1, 60 * 24 * 8 - 11))
            creation = creation_in_state(
                owner=rng.choice(users),
                kind=rng.choice(["image", "video"]),
                status="processing" if status == "canceled" else status,
                age=clock - created_at,
                now=clock,
                error_code=rng.choice(["timed_out", "policy_violation", "storage_failed"]),
                refunded=rng.random() > 0.3,
            )
            if status == "canceled":
                # Canceled, its refund never written (the bug the alert is for).
                Creation.objects.filter(pk=creation.pk).update(status="canceled")
        if round_ and Creation.objects.filter(status__in=Creation.IN_FLIGHT).exists():
            # An in-flight creation ends: it was after the horizon, so it still may.
            flying = Creation.objects.filter(status__in=Creation.IN_FLIGHT).order_by("?")[0]
            Creation.objects.filter(pk=flying.pk).update(status="failed", error_code="timed_out")
        for _ in range(rng.randint(0, 4)):
            account = rng.choice(users).token_account
            insert_past_debit(
                account,
                amount=rng.randint(1, 50),
                at=timezone.now() - timedelta(days=rng.randint(0, 100)),
            )
        if rng.random() < 0.3:
            # A balance off by hand: the discrepancy must show either way.
            TokenAccount.objects.filter(pk=rng.choice(users).token_account.pk).update(
                balance=F("balance") + rng.randint(1, 10)
            )
        if rng.random() < 0.3 and Creation.objects.filter(status="failed").exists():
            # A missing refund written since the rollup found it missing.
            failed = Creation.objects.filter(status="failed").annotate(r=refund_exists())
            missing = failed.filter(r=False).first()
            if missing:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO tokens_ledgerentry (account_id, kind, amount, balance_after,"
                        " creation_id, reason, created_at) SELECT id, 'refund', 1, balance, %s,"
                        " 'late', now() FROM tokens_tokenaccount WHERE user_id = %s",
                        [missing.id, missing.owner_id],
                    )
        if round_ and rng.random() < 0.8:
            rollup.rollup_run(now=clock)
        assert_figures_match_the_slow_way()
    rollup.rollup_run()
    state = RollupState.objects.get()
    assert state.ledger_watermark == LedgerEntry.objects.order_by("-id").first().id
    assert state.creations_horizon is not None
    assert_figures_match_the_slow_way()


def test_the_rollup_goes_in_batches(db, alice, monkeypatch):
    monkeypatch.setattr(rollup, "LEDGER_BATCH", 2)
    monkeypatch.setattr(rollup, "CREATION_BATCH", timedelta(days=1))
    for days in range(5):
        creation_in_state(owner=alice, status="draft", age=timedelta(days=days, hours=1))
    steps = rollup.rollup_run(max_steps=10_000)
    assert steps["ledger"] > 3 and steps["creations"] > 3
    assert RollupState.objects.get().ledger_watermark == LedgerEntry.objects.latest("id").id
    assert_figures_match_the_slow_way()


def other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )


def grant_in(conn: psycopg.Connection, account: TokenAccount, amount: int) -> int:
    """A grant written in `conn`'s open transaction (not committed): its id."""
    cursor = conn.execute(
        "UPDATE tokens_tokenaccount SET balance = balance + %s WHERE id = %s RETURNING balance",
        [amount, account.pk],
    )
    balance = cursor.fetchone()[0]
    return conn.execute(
        "INSERT INTO tokens_ledgerentry (account_id, kind, amount, balance_after, reason,"
        " created_at) VALUES (%s, 'grant', %s, %s, 'late', now()) RETURNING id",
        [account.pk, amount, balance],
    ).fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_ledger_row_committed_after_a_later_one_is_counted_once(alice, bob):
    late = other_connection()
    try:
        late_id = grant_in(late, alice.token_account, 7)
        # A later id, committed first.
        early = tokens.account_grant(user=bob, amount=5, reason="test")
        assert early.id > late_id
        rollup.rollup_run()
        # The row below it is still being written: the watermark waits below it.
        assert RollupState.objects.get().ledger_watermark < late_id
        assert_figures_match_the_slow_way()
        rollup.rollup_run()
        assert RollupState.objects.get().ledger_watermark < late_id
        late.commit()
        rollup.rollup_run()
        assert RollupState.objects.get().ledger_watermark >= early.id
        assert_figures_match_the_slow_way()
        # And it is in the rollup itself, not only in the tail.
        assert LedgerKindTotal.objects.get(kind="grant").plus == sum(
            LedgerEntry.objects.filter(kind="grant").values_list("amount", flat=True)
        )
        assert tokens.ledger_discrepancies() == []
    finally:
        late.close()


@pytest.mark.django_db(transaction=True)
def test_a_ledger_row_rolled_back_leaves_a_gap_the_rollup_moves_past(alice, bob):
    gone = other_connection()
    try:
        gone_id = grant_in(gone, alice.token_account, 7)
        later = tokens.account_grant(user=bob, amount=5, reason="test")
        rollup.rollup_run()
        assert RollupState.objects.get().ledger_watermark < gone_id
        gone.rollback()
        rollup.rollup_run()
        assert RollupState.objects.get().ledger_watermark == later.id
        assert_figures_match_the_slow_way()
    finally:
        gone.close()


@pytest.mark.django_db(transaction=True)
def test_two_rollup_runs_at_once_add_each_row_once(alice, bob):
    for user in (alice, bob):
        for _ in range(5):
            tokens.account_grant(user=user, amount=3, reason="test")
    errors = []

    def run():
        try:
            rollup.rollup_run()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert RollupState.objects.get().ledger_watermark == LedgerEntry.objects.latest("id").id
    # The rollup alone (no tail left) holds every row once.
    assert (
        LedgerKindTotal.objects.get(kind="grant").entries
        == LedgerEntry.objects.filter(kind="grant").count()
    )
    assert_figures_match_the_slow_way()


def test_the_rollup_runs_every_minute_from_rqcron(db):
    from django_rq.cron import DjangoCronScheduler

    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("phoenix.cron")
    job = {job.func_name: job for job in scheduler.get_jobs()}["ops.jobs.run_rollups"]
    assert job.interval == 60
    assert job.queue_name == "housekeeping"


@pytest.mark.django_db(transaction=True)
def test_the_rollup_job_brings_the_sums_up_to_date(alice):
    assert jobs.run_rollups()["ledger"] >= 1
    assert RollupState.objects.get().ledger_watermark == LedgerEntry.objects.latest("id").id
    assert_figures_match_the_slow_way()
