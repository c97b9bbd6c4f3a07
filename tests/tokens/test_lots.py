"""Credit lots: the draw-down order, refunds to the lots drawn from, expiry, the welcome
grant, staff grants with an expiry, and the lot opened for balances older than lots."""

import datetime
import importlib
import itertools

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from profiles.services import creator_signup
from tests.conftest import race_creates, staff_adjust
from tests.tokens.conftest import ensure_packs, reconciles
from tokens.models import CreditLot, LedgerEntry, LotDraw, Purchase, TokenAccount, TokenPack
from tokens.purchases import purchase_credit
from tokens.selectors import balance_of
from tokens.services import (
    InsufficientTokens,
    account_debit_locked,
    account_forfeit,
    account_grant,
    creation_refund_locked,
    lock_account,
    lots_expire,
)

NOW = timezone.now()
SOON = NOW + datetime.timedelta(days=2)
LATE = NOW + datetime.timedelta(days=40)

# Every lot a creator can hold, by its two attributes: category and expiry.
KINDS = [
    (category, expiry) for category in ("promo", "paid") for expiry in ("soon", "late", "never")
]
EXPIRES = {"soon": SOON, "late": LATE, "never": None}


def expected_first(a, b):
    """The documented order, written independently of CreditLot.DRAW_ORDER: promo before
    paid; then the soonest expiry (no expiry last); then the older lot."""
    rank = {"soon": 0, "late": 1, "never": 2}

    def key(kind_and_age):
        (category, expiry), age = kind_and_age
        return (category != "promo", rank[expiry], age)

    return min([(a, 0), (b, 1)], key=key)[1]


@pytest.fixture
def empty_handed(alice, settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    staff_adjust(user=alice, amount=-balance_of(alice), reason="Start from nothing")
    return alice


def open_lot(user, category: str, expiry: str) -> CreditLot:
    if category == "promo":
        entry = account_grant(user=user, amount=5, reason="test lot", expires_at=EXPIRES[expiry])
        return entry.lot
    ensure_packs()
    pack = TokenPack.objects.get(slug="starter")
    purchase = Purchase.objects.create(
        account=TokenAccount.objects.get(user=user),
        pack=pack,
        tokens=5,
        amount=pack.price,
        currency=pack.currency,
        checkout_session_id=f"cs_test_{timezone.now().timestamp()}_{category}{expiry}",
    )
    entry = purchase_credit(
        purchase_id=purchase.pk, amount_total=pack.price, currency="usd", payment_intent_id=None
    )
    # Paid lots have no expiry today; the order must still hold if one ever has.
    CreditLot.objects.filter(pk=entry.lot_id).update(expires_at=EXPIRES[expiry])
    return entry.lot


@pytest.mark.parametrize(
    ("first", "second"),
    [pair for pair in itertools.permutations(KINDS + [("promo", "late")], 2) if pair[0] != pair[1]]
    + [(("promo", "late"), ("promo", "late")), (("paid", "never"), ("paid", "never"))],
    ids=lambda kind: "-".join(kind),
)
def test_a_debit_draws_in_the_documented_order(empty_handed, make_creation, first, second):
    older = open_lot(empty_handed, *first)
    newer = open_lot(empty_handed, *second)

    creation = make_creation(owner=empty_handed, kind="image", status="pending")

    drawn = LedgerEntry.objects.get(creation=creation, kind="debit").draws.get()
    expected = [older, newer][expected_first(first, second)]
    assert drawn.lot_id == expected.pk and drawn.amount == 1
    assert reconciles()


def test_a_refund_returns_tokens_to_the_lots_they_came_from(empty_handed, make_creation):
    promo = open_lot(empty_handed, "promo", "soon")
    paid = open_lot(empty_handed, "paid", "never")
    paid2 = open_lot(empty_handed, "paid", "never")
    creation = make_creation(owner=empty_handed, kind="video", status="pending")
    debit = LedgerEntry.objects.get(creation=creation, kind="debit")
    assert {d.lot_id: d.amount for d in debit.draws.all()} == {promo.pk: 5, paid.pk: 5}

    with transaction.atomic():
        creation_refund_locked(lock_account(empty_handed), creation=creation, reason="canceled")

    remaining = dict(
        CreditLot.objects.filter(account__user=empty_handed).values_list("pk", "remaining")
    )
    assert remaining[promo.pk] == 5 and remaining[paid.pk] == 5 and remaining[paid2.pk] == 5
    assert reconciles()


def test_the_expiry_job_takes_expired_promo_tokens_once(empty_handed, make_creation):
    expiring = open_lot(empty_handed, "promo", "soon")
    lasting = open_lot(empty_handed, "promo", "never")
    make_creation(owner=empty_handed, kind="image", status="pending")  # 1 from `expiring`
    CreditLot.objects.filter(pk=expiring.pk).update(expires_at=NOW - datetime.timedelta(hours=1))

    assert lots_expire(now=timezone.now()) == 4
    assert lots_expire(now=timezone.now()) == 0

    assert balance_of(empty_handed) == 5
    expiry = LedgerEntry.objects.get(kind="expiry")
    assert expiry.amount == -4 and expiry.lot_id == expiring.pk
    assert CreditLot.objects.get(pk=lasting.pk).remaining == 5
    assert reconciles()


def test_lots_holding_more_than_the_balance_expire_to_zero_and_never_stop_the_run(
    empty_handed, bob
):
    # The deploy window: code from before lots debited 4 tokens without drawing a lot.
    expiring = open_lot(empty_handed, "promo", "soon")
    TokenAccount.objects.filter(user=empty_handed).update(balance=1)
    LedgerEntry.objects.create(
        account=TokenAccount.objects.get(user=empty_handed),
        kind="forfeit",
        amount=-4,
        balance_after=1,
        reason="stands for the old debit (keeps balance = Σ ledger)",
    )
    others = account_grant(user=bob, amount=3, reason="contest", expires_at=SOON).lot
    CreditLot.objects.filter(pk__in=[expiring.pk, others.pk]).update(
        expires_at=NOW - datetime.timedelta(hours=1)
    )

    assert lots_expire(now=timezone.now()) == 1 + 3  # never below zero, nobody left out

    assert balance_of(empty_handed) == 0
    assert CreditLot.objects.get(pk=expiring.pk).remaining == 0
    assert CreditLot.objects.get(pk=others.pk).remaining == 0
    assert reconciles()


def test_a_lot_that_cannot_expire_is_logged_and_the_others_still_expire(
    empty_handed, bob, monkeypatch, caplog
):
    from tokens import services

    broken = open_lot(empty_handed, "promo", "soon")
    fine = account_grant(user=bob, amount=3, reason="contest", expires_at=SOON).lot
    CreditLot.objects.filter(pk__in=[broken.pk, fine.pk]).update(
        expires_at=NOW - datetime.timedelta(hours=1)
    )
    real = services.lot_expire

    def fails_for_one(*, lot_id, now):
        if lot_id == broken.pk:
            raise RuntimeError("this lot is broken")
        return real(lot_id=lot_id, now=now)

    monkeypatch.setattr(services, "lot_expire", fails_for_one)

    assert services.lots_expire(now=timezone.now()) == 3
    assert CreditLot.objects.get(pk=fine.pk).remaining == 0
    assert CreditLot.objects.get(pk=broken.pk).remaining == 5
    assert f"Lot {broken.pk} not expired" in caplog.text


def test_the_spendable_lots_of_an_account_are_read_through_a_partial_index(db):
    index = {i.name: i for i in CreditLot._meta.indexes}["lot_spendable"]
    assert index.fields == ["account"] and str(index.condition) == str(Q(remaining__gt=0))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'lot_spendable'")
        (definition,) = cursor.fetchone()
    assert "(account_id)" in definition and "remaining > 0" in definition


def test_the_welcome_grant_is_a_promo_lot_that_expires(alice, settings):
    lot = CreditLot.objects.get(account__user=alice)
    assert lot.category == "promo" and lot.remaining == settings.PHOENIX_WELCOME_TOKENS
    days = (lot.expires_at - timezone.now()).days
    assert days in (
        settings.PHOENIX_WELCOME_TOKENS_EXPIRE_DAYS - 1,
        settings.PHOENIX_WELCOME_TOKENS_EXPIRE_DAYS,
    )


def test_grant_tokens_takes_an_expiry(alice, capsys):
    call_command("grant_tokens", "alice", "25", reason="contest", expires_in_days=7)
    lot = LedgerEntry.objects.get(reason="contest").lot
    assert lot.category == "promo" and lot.remaining == 25
    assert 6 <= (lot.expires_at - timezone.now()).days <= 7
    assert "expire" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("grant_tokens", "alice", "25", reason="contest", expires_in_days=0)


def test_balances_from_before_lots_get_one_lot_each(alice):
    # An account as it stood before lots: a balance, no lot.
    carol = get_user_model().objects.create(username="carol")
    account = TokenAccount.objects.create(user=carol)
    TokenAccount.objects.filter(pk=account.pk).update(balance=42)
    alice_lots = list(CreditLot.objects.filter(account__user=alice).values_list("pk", flat=True))

    migration = importlib.import_module("tokens.migrations.0005_packs_and_opening_lots")
    migration.open_lots_for_current_balances(django_apps, None)

    lot = CreditLot.objects.get(account=account)
    assert (lot.category, lot.remaining, lot.expires_at) == ("promo", 42, None)
    assert (
        list(CreditLot.objects.filter(account__user=alice).values_list("pk", flat=True))
        == alice_lots
    )


def test_a_debit_beyond_the_lots_opens_one_for_tokens_held_outside_them(alice, make_creation):
    # A grant written by code from before lots (during the deploy): balance, no lot.
    account = TokenAccount.objects.get(user=alice)
    TokenAccount.objects.filter(pk=account.pk).update(balance=105)
    LedgerEntry.objects.create(account=account, kind="grant", amount=5, balance_after=105)
    staff_adjust(user=alice, amount=-100, reason="Spend the welcome lot")

    creation = make_creation(owner=alice, kind="image", status="pending")

    draw = LedgerEntry.objects.get(creation=creation, kind="debit").draws.get()
    assert (draw.lot.category, draw.lot.granted, draw.lot.remaining) == ("promo", 5, 4)
    assert reconciles()


def a_creation(owner, cost: int):
    from creations.models import Creation

    return Creation.objects.create(
        owner=owner, kind="video", prompt="a lot test", aspect_ratio="16:9", cost=cost
    )


def test_a_debit_across_three_lots_takes_each_in_order_in_one_statement(
    empty_handed, django_assert_num_queries
):
    first = open_lot(empty_handed, "promo", "soon")
    second = open_lot(empty_handed, "promo", "never")
    third = open_lot(empty_handed, "paid", "never")
    creation = a_creation(empty_handed, 12)

    with transaction.atomic():
        account = lock_account(empty_handed)
        with django_assert_num_queries(1):
            entry = account_debit_locked(account, amount=12, creation=creation)

    assert (entry.amount, entry.balance_after, account.balance) == (-12, 3, 3)
    assert LedgerEntry.objects.get(pk=entry.pk).balance_after == 3
    # Recorded in the order they were drawn.
    assert list(entry.draws.order_by("id").values_list("lot_id", "amount")) == [
        (first.pk, 5),
        (second.pk, 5),
        (third.pk, 2),
    ]
    remaining = dict(
        CreditLot.objects.filter(pk__in=[first.pk, second.pk, third.pk]).values_list(
            "pk", "remaining"
        )
    )
    assert remaining == {first.pk: 0, second.pk: 0, third.pk: 3}
    assert balance_of(empty_handed) == 3
    assert reconciles()


def test_a_debit_that_a_lot_covers_exactly_leaves_the_next_lot_alone(empty_handed):
    first = open_lot(empty_handed, "promo", "soon")
    second = open_lot(empty_handed, "promo", "never")

    with transaction.atomic():
        entry = account_debit_locked(
            lock_account(empty_handed), amount=5, creation=a_creation(empty_handed, 5)
        )

    assert list(entry.draws.values_list("lot_id", "amount")) == [(first.pk, 5)]
    assert CreditLot.objects.get(pk=second.pk).remaining == 5
    assert reconciles()


def test_a_negative_adjustment_and_a_forfeit_draw_as_a_debit(empty_handed):
    first = open_lot(empty_handed, "paid", "never")
    second = open_lot(empty_handed, "promo", "late")

    adjustment = staff_adjust(user=empty_handed, amount=-7, reason="Take seven")

    assert list(adjustment.draws.order_by("id").values_list("lot_id", "amount")) == [
        (second.pk, 5),
        (first.pk, 2),
    ]
    assert adjustment.staff.username == "ledger-keeper" and adjustment.reason == "Take seven"
    forfeit = account_forfeit(user=empty_handed, reason="account deleted")
    assert (forfeit.amount, forfeit.balance_after) == (-3, 0)
    assert list(forfeit.draws.values_list("lot_id", "amount")) == [(first.pk, 3)]
    assert not CreditLot.objects.filter(account__user=empty_handed, remaining__gt=0).exists()
    assert reconciles()


def test_a_refused_debit_draws_from_no_lot(empty_handed):
    lot = open_lot(empty_handed, "promo", "never")

    with pytest.raises(InsufficientTokens), transaction.atomic():
        account_debit_locked(
            lock_account(empty_handed), amount=6, creation=a_creation(empty_handed, 6)
        )

    assert CreditLot.objects.get(pk=lot.pk).remaining == 5
    assert not LotDraw.objects.filter(lot=lot).exists()
    assert balance_of(empty_handed) == 5


def test_locking_reads_the_whole_account_row_and_opens_a_missing_one(alice):
    carol = get_user_model().objects.create(username="carol")

    with transaction.atomic():
        account = lock_account(alice)
        stored = TokenAccount.objects.get(user=alice)
        opened = lock_account(carol)

    assert [getattr(account, f.attname) for f in TokenAccount._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in TokenAccount._meta.concrete_fields
    ]
    assert not account._state.adding
    assert (opened.user_id, opened.balance, opened.debt) == (carol.pk, 0, 0)
    assert TokenAccount.objects.filter(user=carol).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_draw_every_lot_in_order_and_no_token_twice(settings):
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    racer = creator_signup(username="lot-racer", password="lot-racer-password-123")
    staff_adjust(user=racer, amount=-balance_of(racer), reason="Start from nothing")
    paid = open_lot(racer, "paid", "never")
    late = open_lot(racer, "promo", "late")
    soon = open_lot(racer, "promo", "soon")

    outcomes = race_creates(racer, [{"type": "image", "prompt": f"lot {i}"} for i in range(20)])

    assert sorted(status for _, status in outcomes) == [202] * 15 + [402] * 5
    # Each debit under the account lock in turn: the ledger's order is the order they ran.
    debits = LedgerEntry.objects.filter(account__user=racer, kind="debit").order_by("id")
    assert [(debit.draws.get().lot_id, debit.draws.get().amount) for debit in debits] == (
        [(soon.pk, 1)] * 5 + [(late.pk, 1)] * 5 + [(paid.pk, 1)] * 5
    )
    assert not CreditLot.objects.filter(account__user=racer, remaining__gt=0).exists()
    assert balance_of(racer) == 0
    assert reconciles()
