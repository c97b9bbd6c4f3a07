"""The generation job through real RQ workers, real PostgreSQL and Redis, real ffmpeg."""

from datetime import timedelta
from pathlib import Path

import imageio_ffmpeg
import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from creations import services
from creations.api import refusal_status
from creations.jobs import recovery
from creations.models import Creation
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import run_worker_burst, start_worker, stop_worker, wait_for
from tests.creations import fakes
from tokens.services import ledger_discrepancies

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTED = "tests.creations.fakes:ScriptedProvider"


@pytest.fixture
def alice(transactional_db):
    return creator_signup(username="alice", password="alice-password-123")


def submit(user, kind="image", prompt="a red fox", **fields) -> Creation:
    if kind == "image":
        request = CreationRequest("image", prompt, fields.get("aspect_ratio", "1:1"))
    else:
        request = CreationRequest("video", prompt, "", fields.get("orientation", "landscape"))
    creation, _ = services.creation_submit(user=user, request=request)
    return creation


def stored(name: str) -> Path:
    return Path(settings.MEDIA_ROOT) / name


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def assert_money_is_right():
    assert ledger_discrepancies() == []
    for creation in Creation.objects.all():
        ended_without_media = creation.status in Creation.ENDED_WITHOUT_MEDIA
        assert ended_without_media == (refunds(creation) == 1), creation
        assert creation.ledger_entries.filter(kind="debit").count() == 1


@pytest.mark.parametrize(
    ("aspect_ratio", "size"), [("1:1", (1024, 1024)), ("16:9", (1280, 720)), ("3:4", (768, 1024))]
)
def test_an_image_becomes_a_draft_through_a_real_worker(alice, aspect_ratio, size):
    creation = submit(alice, aspect_ratio=aspect_ratio)
    worker = start_worker("--burst")
    assert worker.wait(timeout=60) == 0, worker.stderr.read().decode()

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert (creation.width, creation.height) == size
    assert creation.processing_at <= creation.draft_at
    with Image.open(stored(creation.media.name)) as image:
        assert image.format == "PNG"
        assert image.size == size
    assert "fox" not in creation.media.name
    assert balance(alice) == 99
    assert_money_is_right()


@pytest.mark.parametrize(
    ("orientation", "size"), [("landscape", (1280, 720)), ("portrait", (720, 1280))]
)
def test_a_video_becomes_a_playable_draft_with_poster_and_duration(alice, orientation, size):
    creation = submit(alice, kind="video", prompt="waves at night", orientation=orientation)
    worker = start_worker("--burst")
    assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert creation.progress == 100
    video = stored(creation.media.name)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert frames > 0
    expected = settings.PHOENIX_LOCAL_VIDEO_SECONDS
    assert seconds == pytest.approx(expected, abs=0.1)
    assert creation.duration_seconds == pytest.approx(seconds, abs=0.05)
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    assert tuple(meta["size"]) == size
    assert meta["codec"].startswith("h264")
    first_frame = next(reader)
    assert len(first_frame) == size[0] * size[1] * 3
    reader.close()
    with Image.open(stored(creation.poster.name)) as poster:
        assert poster.format == "JPEG"
        assert poster.size == size
    assert balance(alice) == 90
    assert_money_is_right()


@pytest.mark.parametrize(
    ("prompt", "code", "message_part"),
    [
        ("safety", "safety_filter", "safety filter"),
        ("policy", "policy_violation", "content policy"),
        ("always-transient", "provider_unavailable", "unavailable"),
        ("crash", "generation_failed", "Something went wrong"),
    ],
)
def test_each_error_class_fails_with_one_refund_and_its_message(
    alice, settings, prompt, code, message_part
):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    fakes.calls.clear()
    creation = submit(alice, prompt=prompt)
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "failed"
    assert creation.error_code == code
    assert message_part in creation.error_message
    assert "refunded" in creation.error_message
    assert "DEADBEEF" not in creation.error_message
    assert refunds(creation) == 1
    assert balance(alice) == 100
    expected_calls = settings.PHOENIX_TRANSIENT_RETRIES + 1 if "transient" in prompt else 1
    assert fakes.calls[prompt] == expected_calls
    assert_money_is_right()


def test_a_transient_error_that_recovers_on_retry_ends_as_draft_without_refund(alice, settings):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    fakes.calls.clear()
    creation = submit(alice, prompt="transient:2")
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert fakes.calls["transient:2"] == 3
    assert refunds(creation) == 0
    assert balance(alice) == 99
    assert_money_is_right()


def test_a_video_job_reports_progress_while_it_runs(alice, settings):
    settings.PHOENIX_VIDEO_PROVIDER = SCRIPTED
    fakes.calls.clear()
    creation = submit(alice, kind="video", prompt="ok")
    run_worker_burst()

    assert fakes.calls["progress_seen"] == [40]
    creation.refresh_from_db()
    assert (creation.status, creation.progress) == ("draft", 100)


def test_a_storage_failure_fails_with_one_refund_and_leaves_no_file(alice, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.creations.fakes.PosterFailsStorage",
            "OPTIONS": {"location": str(settings.MEDIA_ROOT)},
        },
    }
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))
    creation = submit(alice, kind="video", prompt="waves")
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "failed"
    assert creation.error_code == "storage_failed"
    assert refunds(creation) == 1
    assert balance(alice) == 100
    # The MP4 was uploaded before the poster failed; it must be gone again.
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == {
        p for p in before if p.is_file()
    }
    assert_money_is_right()


def test_recovery_racing_a_late_success_keeps_one_outcome(alice, settings):
    settings.PHOENIX_IMAGE_PROVIDER = SCRIPTED
    creation = submit(alice, prompt="recover-meanwhile")
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "failed"
    assert creation.error_code == "worker_lost"
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == before
    assert_money_is_right()


def test_a_second_delivery_of_a_job_does_nothing(alice, settings):
    from creations.jobs.generation import creation_generate

    creation = submit(alice)
    run_worker_burst()
    creation.refresh_from_db()
    assert creation.status == "draft"
    assert creation_generate(creation_id=creation.id) == "not_claimed"
    creation.refresh_from_db()
    assert creation.status == "draft"
    assert creation.attempts == 1


def test_a_worker_killed_mid_job_ends_failed_with_one_refund_after_recovery(alice):
    creation = submit(alice, kind="video", prompt="waves")
    worker = start_worker("--burst", PHOENIX_LOCAL_PROVIDER_DELAY="30")
    wait_for(lambda: Creation.objects.get(pk=creation.pk).status == "processing", what="processing")
    stop_worker(worker)  # SIGKILL to the worker and its work horse

    assert recovery.creations_recover() == {
        "reenqueued": 0,
        "failed": 0,
        "published": 0,
    }  # not yet overdue
    later = timezone.now() + timedelta(
        seconds=settings.PHOENIX_JOB_TIMEOUT["video"] + settings.PHOENIX_DEADLINE_GRACE + 1
    )
    assert recovery.creations_recover(now=later) == {"reenqueued": 0, "failed": 1, "published": 0}
    assert recovery.creations_recover(now=later) == {"reenqueued": 0, "failed": 0, "published": 0}

    creation.refresh_from_db()
    assert creation.status == "failed"
    assert creation.error_code == "worker_lost"
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert_money_is_right()


def test_a_job_lost_between_commit_and_enqueue_is_sent_again_by_recovery(alice, monkeypatch):
    monkeypatch.setattr("creations.services.submission.creation_enqueue", lambda creation: True)
    creation = submit(alice)
    monkeypatch.undo()
    assert recovery.creations_recover() == {
        "reenqueued": 0,
        "failed": 0,
        "published": 0,
    }  # too fresh to judge

    later = timezone.now() + timedelta(seconds=settings.PHOENIX_REENQUEUE_AFTER + 1)
    assert recovery.creations_recover(now=later) == {"reenqueued": 1, "failed": 0, "published": 0}
    assert Creation.objects.get(pk=creation.pk).requeued_at == later
    assert recovery.creations_recover(now=later) == {
        "reenqueued": 0,
        "failed": 0,
        "published": 0,
    }  # job is live
    run_worker_burst()

    creation.refresh_from_db()
    assert creation.status == "draft"
    assert balance(alice) == 99
    assert_money_is_right()


def test_a_completion_whose_answer_was_lost_keeps_its_draft_and_its_files(alice, monkeypatch):
    """The UPDATE to draft commits, then the connection drops before its answer: the retry
    finds the row already holding this job's files and calls it done."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    from creations.jobs.generation import creation_generate

    creation = submit(alice)
    real_update = QuerySet.update
    dropped = []

    def commit_then_drop(self, **changes):
        rows = real_update(self, **changes)
        if changes.get("status") == "draft" and not dropped:
            dropped.append(True)
            raise OperationalError("server closed the connection unexpectedly")
        return rows

    monkeypatch.setattr(QuerySet, "update", commit_then_drop)
    assert creation_generate(creation_id=creation.id) == "draft"

    creation.refresh_from_db()
    assert dropped and creation.status == "draft"
    assert stored(creation.media.name).is_file()
    assert refunds(creation) == 0
    assert_money_is_right()


def test_recovery_does_not_fail_a_creation_claimed_after_it_looked(alice):
    creation = submit(alice)
    long_ago = timezone.now() - timedelta(hours=1)
    Creation.objects.filter(pk=creation.pk).update(created_at=long_ago)
    stale = Creation.objects.get(pk=creation.pk)  # what the recovery pass read: overdue
    now = timezone.now()
    assert now >= stale.deadline

    services.creation_claim(creation_id=creation.id)  # a worker takes it meanwhile
    changed = services.creation_fail_past_deadline(creation=stale, code="timed_out", judged_at=now)

    assert changed is False
    creation.refresh_from_db()
    assert creation.status == "processing"
    assert refunds(creation) == 0


def test_publishing_a_draft_purged_meanwhile_is_refused_and_changes_nothing(alice):
    creation = submit(alice)
    run_worker_burst()
    loaded = Creation.objects.get(pk=creation.pk)  # what the publish form was rendered from
    services.creation_trash(creation=Creation.objects.get(pk=creation.pk))
    services.creation_purge(creation=Creation.objects.get(pk=creation.pk))
    before = Creation.objects.filter(pk=creation.pk).values().get()

    with pytest.raises(services.ActionRefused) as refused:
        services.creation_publish(creation=loaded, caption="too late")

    assert refused.value.code == "not_publishable"
    assert Creation.objects.filter(pk=creation.pk).values().get() == before
    assert_money_is_right()


def test_publishing_a_creation_whose_row_is_gone_is_refused_as_not_found(alice):
    """Rows are not deleted by any service any more; one removed by hand (an operator in
    the database) must still read as gone, not as a server error."""
    creation = submit(alice)
    run_worker_burst()
    loaded = Creation.objects.get(pk=creation.pk)
    Creation.objects.filter(pk=creation.pk).delete()

    with pytest.raises(services.CreationGone) as gone:
        services.creation_publish(creation=loaded, caption="too late")

    assert (gone.value.code, refusal_status(gone.value)) == ("not_found", 404)
    assert not Creation.objects.filter(pk=creation.pk).exists()


def test_a_creation_waiting_in_a_long_but_moving_queue_is_not_failed(alice, settings):
    """Waiting is not a failure: an hour in the queue, while others' jobs keep starting."""
    waiting = submit(alice, prompt="at the back of the queue")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Creation.objects.filter(pk=waiting.pk).update(created_at=an_hour_ago)
    ahead = submit(alice, prompt="just started")
    services.creation_claim(creation_id=ahead.id)
    assert timezone.now() >= Creation.objects.get(pk=waiting.pk).deadline

    assert recovery.creations_recover()["failed"] == 0

    assert Creation.objects.get(pk=waiting.pk).status == "pending"
    run_worker_burst()
    assert Creation.objects.get(pk=waiting.pk).status == "draft"
    assert_money_is_right()


def test_a_creation_in_a_queue_that_has_not_moved_is_failed_as_queue_stalled(alice, settings):
    waiting = submit(alice, prompt="nobody works this queue")
    long_ago = timezone.now() - timedelta(seconds=settings.PHOENIX_QUEUE_STALL + 60)
    Creation.objects.filter(pk=waiting.pk).update(created_at=long_ago)
    started_long_ago = submit(alice, kind="image")
    services.creation_claim(creation_id=started_long_ago.id)
    Creation.objects.filter(pk=started_long_ago.pk).update(processing_at=long_ago)

    assert recovery.creations_recover()["failed"] == 2  # and the long-claimed one: worker_lost

    waiting.refresh_from_db()
    assert (waiting.status, waiting.error_code, refunds(waiting)) == ("failed", "queue_stalled", 1)
    assert "queue has not moved" in waiting.error_message
    started_long_ago.refresh_from_db()
    assert started_long_ago.error_code == "worker_lost"
    assert_money_is_right()


def test_a_pending_image_is_not_stalled_while_videos_start(alice, settings):
    """Images and videos wait in one fair order on shared workers: while any job starts,
    the line moves for both (an image burst used to fail a waiting video as stalled)."""
    waiting = submit(alice, prompt="waiting behind videos")
    long_ago = timezone.now() - timedelta(seconds=settings.PHOENIX_QUEUE_STALL + 60)
    Creation.objects.filter(pk=waiting.pk).update(created_at=long_ago)
    services.creation_claim(creation_id=submit(alice, kind="video").id)

    assert recovery.creations_recover()["failed"] == 0

    assert Creation.objects.get(pk=waiting.pk).status == "pending"
