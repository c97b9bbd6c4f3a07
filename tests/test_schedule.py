from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_rq.cron import DjangoCronScheduler

from creations import queues, services
from creations.models import Creation
from tests.conftest import ROOT, run_worker_burst


def scheduled_jobs() -> dict:
    scheduler = DjangoCronScheduler()
    scheduler.load_config_from_file("phoenix.cron")
    return {job.func_name: job for job in scheduler.get_jobs()}


def test_the_recovery_pass_is_scheduled_every_minute(db):
    recovery = scheduled_jobs()["creations.jobs.entrypoints.recover_creations"]
    assert recovery.interval == 60
    assert recovery.queue_name == "default"


def test_housekeeping_is_scheduled_daily(db):
    daily = scheduled_jobs()["creations.jobs.entrypoints.expire_drafts_job"]
    assert daily.cron == "30 3 * * *"
    assert daily.queue_name == "housekeeping"


def test_token_expiry_and_the_purchase_catch_up_run_daily_on_housekeeping(db):
    jobs = scheduled_jobs()
    expiry = jobs["tokens.jobs.expire_promo_tokens"]
    catch_up = jobs["tokens.jobs.fulfil_missing_purchases"]
    assert (expiry.cron, expiry.queue_name) == ("45 3 * * *", "housekeeping")
    assert (catch_up.cron, catch_up.queue_name) == ("15 4 * * *", "housekeeping")


def stored_files(creation: Creation) -> list[Path]:
    return [Path(settings.MEDIA_ROOT, f.name) for f in (creation.media, creation.poster) if f]


@pytest.mark.django_db(transaction=True)
def test_the_daily_job_moves_expired_drafts_to_the_trash_and_purges_old_trash(alice, make_creation):
    now = timezone.now()
    expired = make_creation(owner=alice, status="draft", kind="video")
    long_ago = now - timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS + 1)
    Creation.objects.filter(pk=expired.pk).update(created_at=long_ago, draft_at=long_ago)
    old_trash = make_creation(owner=alice, status="draft", kind="video")
    services.creation_trash(
        creation=old_trash, now=now - timedelta(days=settings.PHOENIX_TRASH_DAYS, hours=1)
    )
    recent_trash = make_creation(owner=alice, status="failed")
    services.creation_trash(
        creation=recent_trash, now=now - timedelta(days=settings.PHOENIX_TRASH_DAYS - 1)
    )
    daily = scheduled_jobs()["creations.jobs.entrypoints.expire_drafts_job"]

    # Enqueued as the cron scheduler does, run by a worker of its queue.
    job = daily.enqueue(queues.get_queue(daily.queue_name).connection)
    run_worker_burst()

    job.refresh()
    assert job.return_value() == {"trashed": 1, "purged": 1}
    expired.refresh_from_db()
    assert (expired.status, expired.is_trashed, expired.is_purged) == ("draft", True, False)
    assert all(path.exists() for path in stored_files(expired))
    files = stored_files(old_trash)
    old_trash.refresh_from_db()
    assert old_trash.is_purged and old_trash.prompt == "" and not old_trash.media
    assert files and not any(path.exists() for path in files)
    recent_trash.refresh_from_db()
    assert recent_trash.is_trashed and not recent_trash.is_purged
    assert Creation.objects.filter(owner=alice).count() == 3  # rows are kept


def queues_with_a_scheduler() -> set[str]:
    """The queues of the Procfile's workers (what `make run` and production start) that
    run RQ's scheduler."""
    names = set()
    for line in (ROOT / "Procfile").read_text().splitlines():
        command = line.partition(":")[2]
        if " rqworker " in command and "--with-scheduler" in command:
            words = command.split("rqworker", 1)[1].split()
            # Skip options and their values (the worker class is a dotted path).
            names.update(w for w in words if not w.startswith("-") and w.isidentifier())
    return names


def test_make_run_has_a_scheduler_for_the_queue_scheduled_posts_go_to(
    alice, make_creation, django_capture_on_commit_callbacks
):
    """RQ's scheduler moves only the jobs of the queues its own worker listens to."""
    draft = make_creation(owner=alice, status="draft")

    with django_capture_on_commit_callbacks(execute=True):
        services.creation_publish(creation=draft, publish_at=timezone.now() + timedelta(hours=1))

    scheduled_on = {
        name
        for name in ("images", "videos", "default")
        if queues.get_queue(name).scheduled_job_registry.get_job_ids()
    }
    assert scheduled_on == {"default"}
    assert scheduled_on <= queues_with_a_scheduler()
