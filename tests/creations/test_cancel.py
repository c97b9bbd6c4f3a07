"""Cancel: the owner stops a queued or generating creation. It becomes canceled and is
refunded at once; a queued job then does nothing, a running one is stopped (RQ's stop-job
command), and a result that still arrives is discarded with its files."""

from pathlib import Path

import pytest
from django.conf import settings
from rq.job import Job, JobStatus

from creations import queues, services
from creations.api import refusal_status
from creations.jobs import generation
from creations.models import Creation
from creations.providers import GeneratedMedia
from creations.services import ActionRefused
from creations.validation import CreationRequest
from profiles.services import creator_signup
from tests.conftest import (
    run_worker_burst,
    start_worker,
    stop_worker,
    wait_for,
    work_horse_pids,
)
from tokens.services import ledger_discrepancies

from .fakes import tiny_png

pytestmark = pytest.mark.django_db(transaction=True)

THIS_MODULE = "tests.creations.test_cancel"


@pytest.fixture
def alice(transactional_db):
    return creator_signup(username="alice", password="alice-password-123")


@pytest.fixture
def media(private_media) -> Path:
    return private_media


def submit(user, kind: str = "image", prompt: str = "a red fox") -> Creation:
    if kind == "image":
        request = CreationRequest("image", prompt, "1:1")
    else:
        request = CreationRequest("video", prompt, "", "landscape")
    creation, _ = services.creation_submit(user=user, request=request)
    return creation


def balance(user) -> int:
    user.token_account.refresh_from_db()
    return user.token_account.balance


def refunds(creation: Creation) -> int:
    return creation.ledger_entries.filter(kind="refund").count()


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def job_of(creation: Creation) -> Job:
    connection = queues.queue_for_kind(creation.kind).connection
    return Job.fetch(queues.job_id_for(creation.id), connection=connection)


def assert_money_is_right():
    assert ledger_discrepancies() == []
    for creation in Creation.objects.all():
        ended_without_media = creation.status in Creation.ENDED_WITHOUT_MEDIA
        assert ended_without_media == (refunds(creation) == 1), creation
        assert creation.ledger_entries.filter(kind="debit").count() == 1


def test_a_pending_creation_canceled_is_refunded_at_once_and_its_job_leaves_the_queue(alice):
    creation = submit(alice, kind="video")
    assert balance(alice) == 90

    canceled = services.creation_cancel(creation=creation)

    assert (canceled.creation.status, canceled.refunded, canceled.balance) == ("canceled", 10, 100)
    assert balance(alice) == 100
    # Its job left the fair order at once (RQ's `canceled`): nothing runs it.
    run_worker_burst()
    assert job_of(creation).get_status() == JobStatus.CANCELED
    assert queues.queue_for_kind("video").count == 0
    creation.refresh_from_db()
    assert (creation.status, creation.attempts, creation.processing_at) == ("canceled", 0, None)
    assert refunds(creation) == 1
    assert_money_is_right()


def test_a_second_cancel_is_refused_and_refunds_nothing_more(alice):
    creation = submit(alice)
    services.creation_cancel(creation=creation)

    with pytest.raises(ActionRefused) as refusal:
        services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))

    assert refusal.value.code == "not_cancelable"
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert_money_is_right()


def test_a_finished_creation_cannot_be_canceled(alice):
    creation = submit(alice)
    run_worker_burst()

    with pytest.raises(ActionRefused) as refusal:
        services.creation_cancel(creation=creation)

    assert (refusal.value.code, refusal_status(refusal.value)) == ("not_cancelable", 409)
    creation.refresh_from_db()
    assert creation.status == "draft"
    assert (refunds(creation), balance(alice)) == (0, 99)


class CanceledMeanwhile:
    """A generator that answers after its creator canceled the creation: the result arrives
    too late. Videos report progress after the cancel (a video job checks in as it goes)."""

    @staticmethod
    def cancel_whatever_is_processing() -> None:
        for creation in Creation.objects.filter(status=Creation.Status.PROCESSING):
            services.creation_cancel(creation=creation)

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int) -> GeneratedMedia:
        self.cancel_whatever_is_processing()
        return GeneratedMedia(tiny_png(), "png", "image/png", 8, 8)

    def generate_video(self, *, prompt, orientation, seed, on_progress) -> GeneratedMedia:
        self.cancel_whatever_is_processing()
        on_progress(50)
        raise AssertionError("a canceled job went on past its progress report")


def test_a_result_that_arrives_after_the_cancel_is_discarded_with_its_files(alice, settings, media):
    settings.PHOENIX_IMAGE_PROVIDER = f"{THIS_MODULE}:CanceledMeanwhile"
    creation = submit(alice)

    assert generation.creation_generate(creation_id=creation.id) == "discarded"

    creation.refresh_from_db()
    assert (creation.status, creation.media.name, creation.draft_at) == ("canceled", "", None)
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert files_in(media) == set()
    assert_money_is_right()


def test_a_canceled_video_job_stops_at_its_next_progress_report(alice, settings, media):
    settings.PHOENIX_VIDEO_PROVIDER = f"{THIS_MODULE}:CanceledMeanwhile"
    creation = submit(alice, kind="video")

    assert generation.creation_generate(creation_id=creation.id) == "discarded"

    creation.refresh_from_db()
    assert (creation.status, creation.progress) == ("canceled", 0)
    assert (refunds(creation), balance(alice)) == (1, 100)
    assert files_in(media) == set()
    assert_money_is_right()


def test_a_cancel_with_redis_down_still_cancels_and_refunds(alice, settings):
    creation = submit(alice)
    services.creation_claim(creation_id=creation.id)
    settings.RQ_QUEUES = {name: {"URL": "redis://127.0.0.1:1/0"} for name in settings.RQ_QUEUES}
    queues.reset()

    # Stopping the job is after COMMIT and best effort: the status already decided.
    canceled = services.creation_cancel(creation=Creation.objects.get(pk=creation.pk))

    assert (canceled.creation.status, canceled.refunded) == ("canceled", 1)
    assert status_of(creation) == "canceled"
    assert_money_is_right()


def status_of(creation: Creation) -> str:
    return Creation.objects.values_list("status", flat=True).get(pk=creation.pk)


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["video", "image"])
def test_a_processing_creation_canceled_on_a_real_worker_is_refunded_and_its_job_stopped(
    alice, media, figure, kind
):
    """The local generator is made slow (30 s). A video job reports progress every quarter
    second; an image job does not, so only RQ's stop-job command can end it early."""
    creation = submit(alice, kind=kind, prompt="waves at night")
    cost = settings.PHOENIX_COSTS[kind]
    worker = start_worker(PHOENIX_LOCAL_PROVIDER_DELAY="30")
    try:
        wait_for(lambda: status_of(creation) == "processing", timeout=30, what="the claim")
        wait_for(lambda: work_horse_pids(worker.pid), timeout=10, what="the work horse")
        (horse,) = work_horse_pids(worker.pid)

        canceled = services.creation_cancel(creation=creation)

        # Refunded at once, in the same transaction as the cancel.
        assert (canceled.creation.status, canceled.refunded, canceled.balance) == (
            "canceled",
            cost,
            100,
        )
        job = job_of(creation)
        ended = {JobStatus.STOPPED, JobStatus.FINISHED, JobStatus.FAILED}
        wait_for(lambda: job.get_status(refresh=True) in ended, timeout=10, what="the job to end")
        wait_for(lambda: not process_alive(horse), timeout=10, what="the work horse to be gone")
        outcome = job.get_status(refresh=True)
        if kind == "image":
            assert outcome == JobStatus.STOPPED
            assert job in queues.get_queue("images").failed_job_registry
        else:
            # Stopped, or it noticed the cancel at its next progress report first.
            assert outcome == JobStatus.STOPPED or job.return_value() == "discarded", outcome
        assert worker.poll() is None, "the worker itself must go on"
    finally:
        stop_worker(worker)

    creation.refresh_from_db()
    assert (creation.status, creation.media.name, creation.draft_at) == ("canceled", "", None)
    assert refunds(creation) == 1
    assert balance(alice) == 100
    assert files_in(media) == set(), "a canceled job left a file behind"
    assert_money_is_right()
    figure(f"{kind} canceled on a real worker: job {outcome.value}, refunded {cost}, 0 files left")
