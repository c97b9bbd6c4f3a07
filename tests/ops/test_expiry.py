"""Drafts older than PHOENIX_DRAFT_TTL_DAYS move to the trash (files kept, status kept, gone
from the drafts tab, the ledger untouched); what has been in the trash longer than
PHOENIX_TRASH_DAYS is purged (files deleted, words cleared, row kept). Running either
again changes nothing."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone
from rq.cron import CronScheduler

from creations import queues, selectors, services
from creations.jobs.entrypoints import expire_drafts_job
from creations.jobs.housekeeping import drafts_expire, housekeeping
from creations.models import Creation
from tests.conftest import run_worker_burst
from tokens.models import LedgerEntry
from tokens.services import ledger_discrepancies

from .conftest import balance_of, creation_in_state


def stored(name: str) -> str:
    return default_storage.save(f"creations/{name}", ContentFile(b"not really a png"))


def draft_aged(owner, days: float, **kwargs) -> Creation:
    return creation_in_state(
        owner=owner, status="draft", age=timedelta(days=days), media=stored("d.png"), **kwargs
    )


def row(creation: Creation) -> dict:
    return Creation.objects.filter(pk=creation.pk).values().get()


@pytest.fixture
def ttl(settings):
    settings.PHOENIX_DRAFT_TTL_DAYS = 30
    settings.PHOENIX_TRASH_DAYS = 7
    return 30


def test_old_drafts_move_to_the_trash_with_their_files_and_leave_the_drafts_tab(
    alice, ttl, django_capture_on_commit_callbacks, alice_client
):
    old = creation_in_state(
        owner=alice,
        kind="video",
        status="draft",
        age=timedelta(days=31),
        media=stored("old.mp4"),
    )
    Creation.objects.filter(pk=old.pk).update(poster=stored("old.jpg"))
    old.refresh_from_db()
    recent = draft_aged(alice, 29)
    tab_before = alice_client.get("/soho/alice", {"tab": "drafts"}).content.decode()
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire(now=now) == 1

    moved = row(old)
    assert (moved["status"], moved["trashed_at"], moved["purged_at"]) == ("draft", now, None)
    assert (moved["media"], moved["poster"], moved["prompt"]) == (
        old.media.name,
        old.poster.name,
        old.prompt,
    )
    assert default_storage.exists(old.media.name)
    assert default_storage.exists(old.poster.name)
    assert default_storage.exists(recent.media.name)
    assert [c.pk for c in selectors.drafts_page(owner=alice).items] == [recent.pk]
    assert [c.pk for c in selectors.trash_page(owner=alice).items] == [old.pk]
    tab_after = alice_client.get("/soho/alice", {"tab": "drafts"}).content.decode()
    assert f"creation-{old.pk}" in tab_before and f"creation-{old.pk}" not in tab_after
    assert f"creation-{recent.pk}" in tab_after
    # The money history stays: the debit of the expired draft is still in the ledger.
    assert LedgerEntry.objects.filter(creation_id=old.pk, kind="debit").exists()
    assert balance_of(alice) == 89
    assert ledger_discrepancies() == []


def test_a_second_run_changes_nothing(alice, ttl, django_capture_on_commit_callbacks):
    old = draft_aged(alice, 45)
    kept = draft_aged(alice, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 1
    rows = {c.pk: row(c) for c in (old, kept)}
    ledger_rows = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert drafts_expire() == 0

    assert callbacks == []
    assert {c.pk: row(c) for c in (old, kept)} == rows
    assert default_storage.exists(old.media.name) and default_storage.exists(kept.media.name)
    assert LedgerEntry.objects.count() == ledger_rows


def test_published_scheduled_failed_and_in_flight_creations_never_expire(
    alice, ttl, django_capture_on_commit_callbacks
):
    old = timedelta(days=90)
    keep = [
        creation_in_state(owner=alice, status="published", age=old, media=stored("p.png")),
        creation_in_state(owner=alice, status="failed", age=old),
        creation_in_state(owner=alice, status="processing", age=old),
        creation_in_state(owner=alice, status="pending", age=timedelta(days=31)),
    ]
    scheduled = draft_aged(alice, 90)
    services.creation_publish(creation=scheduled, publish_at=timezone.now() + timedelta(days=300))
    keep.append(scheduled)
    rows = {c.pk: row(c) for c in keep}

    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 0

    assert {c.pk: row(c) for c in keep} == rows
    assert scheduled.expires_at is None
    assert default_storage.exists(keep[0].media.name)


def test_the_ttl_is_a_setting(alice, settings, django_capture_on_commit_callbacks):
    settings.PHOENIX_DRAFT_TTL_DAYS = 7
    draft_aged(alice, 8)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 1


def test_the_ttl_counts_from_when_the_creation_became_a_draft(alice, ttl):
    # Created 31 days ago, but only a draft for 20 (a long outage, then recovery).
    creation = creation_in_state(
        owner=alice, status="draft", age=timedelta(days=31), seconds=11 * 86400
    )
    assert drafts_expire() == 0
    assert row(creation)["trashed_at"] is None


def test_a_restored_or_unpublished_draft_gets_a_fresh_ttl(alice, ttl):
    expired = draft_aged(alice, 31)
    assert drafts_expire() == 1
    services.creation_restore(creation=expired)
    post = creation_in_state(
        owner=alice, status="published", age=timedelta(days=60), media=stored("p.png")
    )
    services.creation_unpublish(creation=post)
    now = timezone.now()

    assert drafts_expire(now=now) == 0
    assert drafts_expire(now=now + timedelta(days=29)) == 0
    for creation in (expired, post):
        creation.refresh_from_db()
        assert creation.expires_at == creation.redrafted_at + timedelta(days=30)
        assert (creation.status, creation.trashed_at) == ("draft", None)
    assert drafts_expire(now=now + timedelta(days=30, minutes=1)) == 2


def test_drafts_expiring_within_three_days_carry_a_warning(alice, ttl):
    soon = draft_aged(alice, 28)
    later = draft_aged(alice, 10)
    published = creation_in_state(owner=alice, status="published")

    assert soon.expires_soon is True
    assert soon.expires_at == soon.draft_at + timedelta(days=30)
    assert later.expires_soon is False
    assert (published.expires_at, published.expires_soon) == (None, False)
    services.creation_trash(creation=soon)
    assert (soon.expires_at, soon.expires_soon) == (None, False)


def test_an_expired_draft_is_purged_after_the_trash_days(
    alice, ttl, django_capture_on_commit_callbacks
):
    old = draft_aged(alice, 31)
    moved_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert housekeeping(now=moved_at) == {"trashed": 1, "purged": 0}
        assert housekeeping(now=moved_at + timedelta(days=6, hours=23)) == {
            "trashed": 0,
            "purged": 0,
        }
    assert default_storage.exists(old.media.name)

    purge_day = moved_at + timedelta(days=7, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert housekeeping(now=purge_day) == {"trashed": 0, "purged": 1}
        assert housekeeping(now=purge_day) == {"trashed": 0, "purged": 0}

    purged = row(old)
    assert (purged["status"], purged["purged_at"], purged["prompt"], purged["media"]) == (
        "draft",
        purge_day,
        "",
        "",
    )
    assert not default_storage.exists(old.media.name)
    assert LedgerEntry.objects.filter(creation_id=old.pk, kind="debit").exists()
    assert ledger_discrepancies() == []


def test_the_command_moves_old_drafts_to_the_trash_and_purges_old_trash(
    alice, ttl, django_capture_on_commit_callbacks, capsys
):
    moved = [draft_aged(alice, 31), draft_aged(alice, 32)]
    long_trashed = draft_aged(alice, 3)
    services.creation_trash(creation=long_trashed, now=timezone.now() - timedelta(days=8))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_drafts")

    assert capsys.readouterr().out == (
        "moved 2 draft(s) older than 30 days to the trash; "
        "purged 1 creation(s) trashed more than 7 days ago\n"
    )
    assert Creation.objects.count() == 3
    assert all(row(c)["trashed_at"] and not row(c)["purged_at"] for c in moved)
    assert row(long_trashed)["purged_at"] is not None
    assert not default_storage.exists(long_trashed.media.name)


@pytest.mark.django_db(transaction=True)
def test_the_cron_job_runs_the_housekeeping_through_rq(alice, ttl):
    old = draft_aged(alice, 31)
    long_trashed = draft_aged(alice, 3)
    services.creation_trash(creation=long_trashed, now=timezone.now() - timedelta(days=8))
    job = queues.get_queue("housekeeping").enqueue(expire_drafts_job)

    run_worker_burst()

    job.refresh()
    assert job.return_value() == {"trashed": 1, "purged": 1}
    assert row(old)["trashed_at"] is not None
    assert default_storage.exists(old.media.name)
    assert row(long_trashed)["purged_at"] is not None
    assert not default_storage.exists(long_trashed.media.name)


def test_the_expiry_is_scheduled_daily_in_the_rq_cron(clean_redis):
    # What `manage.py rqcron phoenix.cron` loads.
    scheduler = CronScheduler(connection=clean_redis)
    scheduler.load_config_from_file("phoenix.cron")

    jobs = {job.func.__name__: job for job in scheduler.get_jobs()}

    assert jobs["expire_drafts_job"].cron == "30 3 * * *"
    assert jobs["expire_drafts_job"].queue_name == "housekeeping"
    assert "recover_creations" in jobs


def test_a_draft_published_while_expiry_runs_stays_published_and_out_of_the_trash(
    alice, ttl, monkeypatch, django_capture_on_commit_callbacks
):
    """Expiry reads its candidates, then trashes each one under its row lock only if it is
    still an expired draft: a publish that lands in between wins."""
    from creations.jobs import housekeeping

    old = draft_aged(alice, 31)
    read = housekeeping.expired_drafts

    def read_then_publish(*, now):
        rows = list(read(now=now))
        services.creation_publish(creation=Creation.objects.get(pk=old.pk), caption="mine")
        return _Rows(rows)

    monkeypatch.setattr(housekeeping, "expired_drafts", read_then_publish)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 0

    old.refresh_from_db()
    assert (old.status, old.trashed_at, old.caption) == ("published", None, "mine")
    assert Creation.objects.public().filter(pk=old.pk).exists()
    assert default_storage.exists(old.media.name)


class _Rows(list):
    """Stands in for the queryset drafts_expire iterates."""

    def iterator(self):
        return iter(self)
