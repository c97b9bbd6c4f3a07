"""Drafts older than PHOENIX_DRAFT_TTL_DAYS expire: files deleted, gone from the drafts tab,
the ledger untouched; running again changes nothing."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from rq.cron import CronScheduler

from creations import queues, selectors
from creations.maintenance import drafts_expire, expire_drafts_job
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


@pytest.fixture
def ttl(settings):
    settings.PHOENIX_DRAFT_TTL_DAYS = 30
    return 30


def test_old_drafts_expire_with_their_files_and_leave_the_drafts_tab(
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

    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 1

    assert not Creation.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.media.name)
    assert not default_storage.exists(old.poster.name)
    assert default_storage.exists(recent.media.name)
    assert [c.pk for c in selectors.drafts_page(owner=alice).items] == [recent.pk]
    tab_after = alice_client.get("/soho/alice", {"tab": "drafts"}).content.decode()
    assert f"creation-{old.pk}" in tab_before and f"creation-{old.pk}" not in tab_after
    assert f"creation-{recent.pk}" in tab_after
    # The money history stays: the debit of the expired draft is still in the ledger.
    assert LedgerEntry.objects.filter(creation_id=old.pk, kind="debit").exists()
    assert balance_of(alice) == 89
    assert ledger_discrepancies() == []


def test_a_second_run_changes_nothing(alice, ttl, django_capture_on_commit_callbacks):
    draft_aged(alice, 45)
    kept = draft_aged(alice, 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 1
    ledger_rows = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert drafts_expire() == 0

    assert callbacks == []
    assert list(Creation.objects.values_list("pk", flat=True)) == [kept.pk]
    assert default_storage.exists(kept.media.name)
    assert LedgerEntry.objects.count() == ledger_rows


def test_published_failed_and_in_flight_creations_never_expire(
    alice, ttl, django_capture_on_commit_callbacks
):
    old = timedelta(days=90)
    keep = [
        creation_in_state(owner=alice, status="published", age=old, media=stored("p.png")),
        creation_in_state(owner=alice, status="failed", age=old),
        creation_in_state(owner=alice, status="processing", age=old),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 0

    assert Creation.objects.count() == len(keep)
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
    assert Creation.objects.filter(pk=creation.pk).exists()


def test_drafts_expiring_within_three_days_carry_a_warning(alice, ttl):
    soon = draft_aged(alice, 28)
    later = draft_aged(alice, 10)
    published = creation_in_state(owner=alice, status="published")

    assert soon.expires_soon is True
    assert soon.expires_at == soon.draft_at + timedelta(days=30)
    assert later.expires_soon is False
    assert (published.expires_at, published.expires_soon) == (None, False)


def test_the_command_expires_drafts(alice, ttl, django_capture_on_commit_callbacks, capsys):
    draft_aged(alice, 31)
    draft_aged(alice, 32)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_drafts")
    assert "expired 2 draft(s) older than 30 days" in capsys.readouterr().out
    assert not Creation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_cron_job_expires_drafts_through_rq(alice, ttl):
    old = draft_aged(alice, 31)
    job = queues.get_queue("default").enqueue(expire_drafts_job)

    run_worker_burst()

    job.refresh()
    assert job.return_value() == 1
    assert not Creation.objects.filter(pk=old.pk).exists()
    assert not default_storage.exists(old.media.name)


def test_the_expiry_is_scheduled_daily_in_the_rq_cron(clean_redis):
    # What `manage.py rqcron phoenix.cron` loads.
    scheduler = CronScheduler(connection=clean_redis)
    scheduler.load_config_from_file("phoenix.cron")

    jobs = {job.func.__name__: job for job in scheduler.get_jobs()}

    assert jobs["expire_drafts_job"].cron == "30 3 * * *"
    assert jobs["expire_drafts_job"].queue_name == "default"
    assert "recover_creations" in jobs


def test_a_draft_published_while_expiry_runs_keeps_its_row_and_files(
    alice, ttl, monkeypatch, django_capture_on_commit_callbacks
):
    """Expiry reads its candidates, then deletes each one only if it is still a draft (one
    guarded DELETE): a publish that lands in between wins."""
    from creations import maintenance, services

    old = draft_aged(alice, 31)
    read = maintenance.expired_drafts

    def read_then_publish(*, now):
        rows = list(read(now=now).only("id", "media", "poster"))
        services.creation_publish(creation=Creation.objects.get(pk=old.pk), caption="mine")
        return _Rows(rows)

    monkeypatch.setattr(maintenance, "expired_drafts", read_then_publish)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == 0

    old.refresh_from_db()
    assert old.status == "published"
    assert default_storage.exists(old.media.name)


class _Rows(list):
    """Stands in for the queryset drafts_expire narrows and iterates."""

    def only(self, *fields):
        return self

    def iterator(self):
        return iter(self)
