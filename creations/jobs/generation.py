"""The body of a generation job: claim, generate, store, finish — or fail with a refund.

A provider that runs remote tasks (Runway) holds no worker while it works: the job claims
the creation, submits the task, records its id and returns; the periodic check in
creations/jobs/remote.py carries on from the task id in the database.
"""

import logging
import time
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection
from rq.timeouts import JobTimeoutException

from creations import image_input, services
from creations.models import Creation
from creations.providers import (
    GeneratedMedia,
    PolicyViolationError,
    ProviderError,
    RemoteTaskProvider,
    SafetyFilterError,
    TransientProviderError,
    image_provider,
    remote_provider,
    video_provider,
)

log = logging.getLogger(__name__)


class StorageFailed(Exception):
    pass


def _seed(creation: Creation) -> int:
    return creation.seed


def _source_image(creation: Creation) -> dict:
    """The still a video starts from, for the provider (nothing when it has none, so a
    provider without image input is called as before)."""
    if not creation.source_image:
        return {}
    return {"image": image_input.read_stored(creation.source_image.name)}


def _remote_source_image(creation: Creation) -> dict:
    if not creation.source_image:
        return {}
    return {"image_url": image_input.shared_url(creation.source_image.name)}


class NoLongerWanted(Exception):
    """The creation stopped being processing under the job (canceled, or failed by
    recovery or staff): the work stops, and the provider cancels its task."""


def _report_progress(creation: Creation, percent: int) -> None:
    if not with_db_retry(services.creation_report_progress, creation=creation, percent=percent):
        raise NoLongerWanted(creation.id)


def _generate(creation: Creation) -> GeneratedMedia:
    if creation.kind == Creation.Kind.IMAGE:
        return image_provider().generate_image(
            prompt=creation.prompt, aspect_ratio=creation.aspect_ratio, seed=_seed(creation)
        )
    return video_provider().generate_video(
        prompt=creation.prompt,
        orientation=creation.orientation,
        seed=_seed(creation),
        on_progress=lambda percent: _report_progress(creation, percent),
        **_source_image(creation),
    )


def checked(media) -> GeneratedMedia:
    """A provider's answer must be media before anything is stored."""
    if not isinstance(media, GeneratedMedia) or not media.content:
        raise ProviderError(f"provider returned no media ({type(media).__name__})")
    return media


def with_transient_retries(creation: Creation, call):
    """Transient provider errors are tried again with exponential back-off, a bounded
    number of times; every other error goes straight up."""
    retries = settings.PHOENIX_TRANSIENT_RETRIES
    for attempt in range(retries + 1):
        try:
            return call()
        except TransientProviderError:
            if attempt == retries:
                raise
            pause = settings.PHOENIX_TRANSIENT_BACKOFF * 2**attempt
            log.warning(
                "Transient provider error for %s (attempt %d), retrying in %.1fs",
                creation.id,
                attempt + 1,
                pause,
                exc_info=True,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")


def generate_with_retries(creation: Creation) -> GeneratedMedia:
    return with_transient_retries(creation, lambda: checked(_generate(creation)))


def store_media(media: GeneratedMedia) -> tuple[str, str]:
    """Save the media (and poster) under unguessable keys. On any failure, nothing stays.

    The keys are chosen up front so that an upload which reached the bucket before its
    answer was lost is deleted too (FileSystemStorage and S3 with file_overwrite=False keep
    a fresh UUID key as it is).
    """
    wanted = [(f"creations/{uuid.uuid4().hex}.{media.extension}", media.content)]
    if media.poster is not None:
        wanted.append((f"creations/{uuid.uuid4().hex}.jpg", media.poster))
    saved: list[str] = []
    try:
        for name, content in wanted:
            saved.append(default_storage.save(name, ContentFile(content)))
    except Exception as error:
        services.delete_stored_files(*{*saved, *(name for name, _ in wanted)})
        raise StorageFailed(str(error)) from error
    return saved[0], (saved[1] if len(saved) > 1 else "")


def with_db_retry(write, **kwargs):
    """Run a database write, once more on a fresh connection if the server dropped ours
    (restart, failover, pg_terminate_backend) while the provider was working."""
    try:
        return write(**kwargs)
    except (OperationalError, InterfaceError):
        log.warning("Database connection lost; retrying %s once", write.__name__)
        connection.close()
        return write(**kwargs)


def discard_unless_committed(creation: Creation, media_name: str, poster_name: str) -> None:
    """Delete the files of a completion that did not happen. When the database cannot say
    (still unreachable), keep them: an orphan file costs less than a paid draft whose
    media is gone."""
    try:
        held = with_db_retry(services.creation_holds_media, creation=creation, media=media_name)
    except (OperationalError, InterfaceError):
        log.warning("Cannot tell whether %s kept its files; keeping them", creation.id)
        return
    if not held:
        services.delete_stored_files(media_name, poster_name)


def fail(creation: Creation, code: str, *, task_id: str | None = None) -> str:
    with_db_retry(services.creation_fail_task, creation=creation, code=code, task_id=task_id)
    if creation.status == Creation.Status.CANCELED:
        # The provider's error was the echo of the cancel (its task was canceled): the
        # creation stays canceled and refunded.
        return "discarded"
    return "failed"


def failure_code(error: BaseException) -> str:
    """The error code a user sees for what stopped the work."""
    if isinstance(error, SafetyFilterError):
        return "safety_filter"
    if isinstance(error, PolicyViolationError):
        return "policy_violation"
    if isinstance(error, TransientProviderError):
        return "provider_unavailable"
    if isinstance(error, StorageFailed):
        return "storage_failed"
    if isinstance(error, JobTimeoutException):
        return "timed_out"
    return "generation_failed"


def fail_for(creation: Creation, error: BaseException, *, task_id: str | None = None) -> str:
    code = failure_code(error)
    if code not in ("safety_filter", "policy_violation"):
        # Details go to the log only; the user sees the code's message.
        log.error("Generation of %s failed (%s)", creation.id, code, exc_info=error)
    return fail(creation, code, task_id=task_id)


def creation_generate(*, creation_id) -> str:
    """Run one delivery of a creation's job. Returns what happened, for logs and tests.

    With a provider that runs remote tasks the job only submits the task and records its
    id ("submitted"): the periodic check (remote_tasks_check) carries on from there."""
    creation = services.creation_claim(creation_id=creation_id)
    if creation is None:
        return "not_claimed"
    remote = remote_provider(creation.kind)
    try:
        if remote is not None:
            return submit_remote_task(creation, remote)
        media = generate_with_retries(creation)
        media_name, poster_name = store_media(media)
    except NoLongerWanted:
        # Canceled (or failed) meanwhile, and refunded by whoever did it.
        return "discarded"
    except Exception as error:
        return fail_for(creation, error)
    return complete(creation, media, media_name, poster_name)


def complete(creation: Creation, media: GeneratedMedia, media_name: str, poster_name: str) -> str:
    try:
        finished = with_db_retry(
            services.creation_complete,
            creation=creation,
            media=media_name,
            poster=poster_name,
            width=media.width,
            height=media.height,
            duration_seconds=media.duration_seconds,
        )
    except Exception:
        # Unless the update did commit (its answer lost), the creation stays in flight for
        # recovery to fail and refund, and its files go.
        discard_unless_committed(creation, media_name, poster_name)
        raise
    if not finished:
        # Canceled, or failed by recovery, meanwhile: the refund stands, the files go.
        services.delete_stored_files(media_name, poster_name)
        return "discarded"
    return "draft"


def submit_once(creation: Creation, provider: RemoteTaskProvider, submission) -> str:
    """Submit the creation's task under the submission's key: its id, or the provider's
    error. A transient error is tried again with back-off only where a repeat cannot start
    a second task (the request never left, or the key makes it idempotent); an error that
    may have started one carries maybe_sent. Raises NoLongerWanted when the intent cannot
    be recorded because the creation stopped being processing."""
    maybe_sent = False

    def submit() -> str:
        nonlocal maybe_sent
        try:
            return provider.submit_video(
                prompt=creation.prompt,
                orientation=creation.orientation,
                seed=_seed(creation),
                idempotency_key=str(submission.key),
                **_remote_source_image(creation),
            )
        except ProviderError as error:
            maybe_sent = maybe_sent or getattr(error, "maybe_sent", False)
            error.maybe_sent = maybe_sent
            raise

    return with_transient_retries(creation, submit)


def submit_remote_task(creation: Creation, provider: RemoteTaskProvider) -> str:
    # The intent is committed before the request leaves: killed from here on, the worker
    # leaves a row recovery finds (services.submissions).
    submission = with_db_retry(services.submission_intent, creation=creation)
    if submission is None:
        raise NoLongerWanted(creation.id)
    try:
        task_id = submit_once(creation, provider, submission)
    except ProviderError as error:
        if getattr(error, "maybe_sent", False):
            with_db_retry(services.submission_unconfirmed, submission=submission, why=str(error))
            return fail(creation, "submission_unconfirmed")
        with_db_retry(services.submission_refused, submission=submission)
        raise
    if not with_db_retry(
        services.submission_record_task, creation=creation, submission=submission, task_id=task_id
    ):
        # Canceled between the claim and now: the cancel could not know the task; its
        # cancel is recorded and sent.
        return "discarded"
    # Canceled from here on, the cancel reaches the task through the recorded id.
    with_db_retry(services.creation_report_progress, creation=creation, percent=2)
    return "submitted"
