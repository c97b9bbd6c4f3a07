"""The generation pipeline's writes: claim, progress, the remote task's id, completion."""

import logging

from django.utils import timezone

from .. import events, versions
from ..models import Creation
from .state import (
    _take_state,
)

log = logging.getLogger(__name__)


# One statement that claims and reads back: it commits whole or not at all, and it is one
# round trip where a locked read, an update and a commit were four (a fresh work horse's
# first queries are its slowest, see make bench).
_CLAIM_SQL = f"""
UPDATE {Creation._meta.db_table}
SET status = %s, processing_at = %s, attempts = attempts + 1
WHERE id = %s AND status = ANY(%s)
RETURNING *
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def creation_claim(*, creation_id) -> Creation | None:
    """pending → processing, atomically. None if another delivery (or recovery) got it first.

    A connection lost before the statement ran leaves the creation pending for recovery to
    enqueue again; never "processing" with nobody working on it unless the claim committed.
    """
    target = Creation.Status.PROCESSING
    params = [target, timezone.now(), creation_id, Creation.sources_of(target)]
    claimed = next(iter(Creation.objects.raw(_CLAIM_SQL, params)), None)
    if claimed is not None:
        versions.creation_changed(claimed)
    return claimed


def creation_report_progress(*, creation: Creation, percent: int) -> bool:
    """Record a running job's progress. False: the creation is no longer processing
    (canceled or failed under the job), so the work is not wanted any more."""
    percent = max(0, min(100, int(percent)))
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        progress=percent
    )
    creation.progress = percent
    if updated:
        versions.creation_changed(creation, listing=False)
    return bool(updated)


def creation_record_task(*, creation: Creation, task_id: str) -> bool:
    """Keep a remote provider's task id, so that a cancel reaches the task. False: the
    creation is no longer processing (canceled meanwhile)."""
    updated = Creation.objects.filter(pk=creation.pk, status=Creation.Status.PROCESSING).update(
        provider_task_id=task_id[:128]
    )
    creation.provider_task_id = task_id
    return bool(updated)


def creation_complete(
    *,
    creation: Creation,
    media: str,
    width: int,
    height: int,
    poster: str = "",
    duration_seconds: float | None = None,
) -> bool:
    """processing → draft, only if nobody failed or canceled it meanwhile. False: the
    caller's files are no longer wanted (it was failed or canceled, and refunded).

    True as well when the row already holds these very files: the caller's earlier try
    committed but its answer was lost with the connection (the files' keys are unique to
    one try, so nobody else can have written them)."""
    creation.check_transition(Creation.Status.DRAFT)
    changes = {
        "status": Creation.Status.DRAFT,
        "media": media,
        "poster": poster,
        "width": width,
        "height": height,
        "duration_seconds": duration_seconds,
        "progress": 100,
        "draft_at": timezone.now(),
    }
    changes.pop("status")
    updated = Creation.objects.filter(pk=creation.pk).transition(
        Creation.Status.DRAFT, sources=[Creation.Status.PROCESSING], **changes
    )
    changes["status"] = Creation.Status.DRAFT
    if updated:
        # The row is now exactly what this update wrote: no need to read it back (a
        # refresh_from_db cost ~17% of a job with an instant provider, see make bench).
        for name, value in changes.items():
            setattr(creation, name, value)
        versions.creation_changed(creation)
        seconds = (creation.draft_at - creation.created_at).total_seconds()
        events.announce("completed", creation, seconds=seconds)
        return True
    return creation_holds_media(creation=creation, media=media)


def creation_holds_media(*, creation: Creation, media: str) -> bool:
    already = Creation.objects.filter(pk=creation.pk, media=media, status__in=Creation.FINISHED)
    row = already.first()
    if row is None:
        return False
    _take_state(creation, row)
    return True
