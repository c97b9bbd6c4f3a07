"""The body of a generation job: claim, generate, store, finish — or fail with a refund."""

import logging
import time
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection
from rq.timeouts import JobTimeoutException

from . import services
from .models import Creation
from .providers import (
    GeneratedMedia,
    PolicyViolationError,
    ProviderError,
    SafetyFilterError,
    TransientProviderError,
    image_provider,
    video_provider,
)

log = logging.getLogger(__name__)


class StorageFailed(Exception):
    pass


def _seed(creation: Creation) -> int:
    return int(creation.id.hex[:8], 16)


class NoLongerWanted(Exception):
    """The creation stopped being processing under the job (canceled, or failed by
    recovery or staff): the work stops, and the provider cancels its task."""


def _report_progress(creation: Creation, percent: int) -> None:
    if not with_db_retry(services.creation_report_progress, creation=creation, percent=percent):
        raise NoLongerWanted(creation.id)


def _record_task(creation: Creation, task_id: str) -> None:
    if not with_db_retry(services.creation_record_task, creation=creation, task_id=task_id):
        raise NoLongerWanted(creation.id)


def _generate(creation: Creation) -> GeneratedMedia:
    if creation.kind == Creation.Kind.IMAGE:
        return image_provider().generate_image(
            prompt=creation.prompt, aspect_ratio=creation.aspect_ratio, seed=_seed(creation)
        )
    provider = video_provider()
    extra = {}
    if getattr(provider, "runs_remote_tasks", False):
        extra["on_task"] = lambda task_id: _record_task(creation, task_id)
    return provider.generate_video(
        prompt=creation.prompt,
        orientation=creation.orientation,
        seed=_seed(creation),
        on_progress=lambda percent: _report_progress(creation, percent),
        **extra,
    )


def checked(media) -> GeneratedMedia:
    """A provider's answer must be media before anything is stored."""
    if not isinstance(media, GeneratedMedia) or not media.content:
        raise ProviderError(f"provider returned no media ({type(media).__name__})")
    return media


def generate_with_retries(creation: Creation) -> GeneratedMedia:
    """Transient provider errors are tried again with exponential back-off, a bounded
    number of times; every other error goes straight up."""
    retries = settings.PHOENIX_TRANSIENT_RETRIES
    for attempt in range(retries + 1):
        try:
            return checked(_generate(creation))
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


def fail(creation: Creation, code: str) -> str:
    with_db_retry(services.creation_fail, creation=creation, code=code)
    if creation.status == Creation.Status.CANCELED:
        # The provider's error was the echo of the cancel (its task was canceled): the
        # creation stays canceled and refunded.
        return "discarded"
    return "failed"


def creation_generate(*, creation_id) -> str:
    """Run one delivery of a creation's job. Returns what happened, for logs and tests."""
    creation = services.creation_claim(creation_id=creation_id)
    if creation is None:
        return "not_claimed"
    try:
        media = generate_with_retries(creation)
        media_name, poster_name = store_media(media)
    except NoLongerWanted:
        # Canceled (or failed) meanwhile, and refunded by whoever did it.
        return "discarded"
    except SafetyFilterError:
        return fail(creation, "safety_filter")
    except PolicyViolationError:
        return fail(creation, "policy_violation")
    except TransientProviderError:
        log.exception("Provider kept failing for %s", creation.id)
        return fail(creation, "provider_unavailable")
    except StorageFailed:
        log.exception("Storage failed for %s", creation.id)
        return fail(creation, "storage_failed")
    except JobTimeoutException:
        log.exception("Job timed out for %s", creation.id)
        return fail(creation, "timed_out")
    except Exception:
        # Details go to the log only; the user sees the generic message.
        log.exception("Generation failed for %s", creation.id)
        return fail(creation, "generation_failed")

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
