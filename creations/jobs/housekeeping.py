"""Scheduled housekeeping: old drafts to the trash, old trash purged. Run daily by the RQ
cron (phoenix/cron.py) on the `housekeeping` queue and by `manage.py expire_drafts`; safe
to run at any time, twice, or at once.

The work goes in batches of PHOENIX_HOUSEKEEPING_BATCH creations, in the order of their
ids: the cron's job does one batch and queues the next (from the last id it reached), so a
backlog of a million expired drafts is many short jobs, not one that runs for hours and
loses everything to a restart. A creation left alone under its lock (published meanwhile)
is passed over, not read again by every batch.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from redis.exceptions import RedisError

from creations.models import Creation
from creations.services import (
    ActionRefused,
    creation_drop_source_copy,
    creation_purge,
    creation_trash,
)

from . import sending

log = logging.getLogger(__name__)

# One batch's job timeout: a batch of trash moves and purges (each a row lock and, for a
# purge, a file deletion) takes seconds; this is ample.
HOUSEKEEPING_BATCH_TIMEOUT = 600


@dataclass(frozen=True)
class Batch:
    done: int  # moved (or purged)
    last_id: str | None  # the last id looked at: the next batch starts after it
    more: bool  # the batch was full: there may be more after last_id


def expired_drafts(*, now: datetime):
    """Unpublished drafts past the TTL, counted from when they (last) became drafts;
    scheduled ones and those already in the trash are not. In id order (for the batches)."""
    cutoff = now - timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS)
    since = Greatest(
        Coalesce(F("draft_at"), F("created_at")), Coalesce(F("redrafted_at"), F("created_at"))
    )
    return (
        Creation.objects.filter(status=Creation.Status.DRAFT, trashed_at__isnull=True)
        .annotate(draft_since=since)
        .filter(draft_since__lte=cutoff)
        .order_by("pk")
    )


def _batch_size(limit: int | None) -> int:
    return max(1, limit or settings.PHOENIX_HOUSEKEEPING_BATCH)


def drafts_expire_batch(
    *, now: datetime, after: str | None = None, limit: int | None = None
) -> Batch:
    """Move up to `limit` expired drafts (ids after `after`) to the trash. Each goes through
    the trash service, which re-checks it under its row lock, so a draft published while
    this runs is left alone."""
    limit = _batch_size(limit)
    candidates = expired_drafts(now=now)
    if after is not None:
        candidates = candidates.filter(pk__gt=after)
    rows = list(candidates[:limit])
    moved = 0
    for creation in rows:
        with transaction.atomic():
            # Read again under the row lock: a draft published, scheduled or trashed since
            # (the trash service would take a post too), or redrafted afresh, stays.
            row = Creation.objects.select_for_update().filter(pk=creation.pk).first()
            expires_at = row.expires_at if row is not None else None
            if expires_at is None or expires_at > now:
                continue
            try:
                creation_trash(creation=row, now=now)
            except ActionRefused:
                continue
        moved += 1
    if moved:
        log.info(
            "Moved %d draft(s) older than %d days to the trash",
            moved,
            settings.PHOENIX_DRAFT_TTL_DAYS,
        )
    return Batch(moved, str(rows[-1].pk) if rows else after, len(rows) >= limit)


def _all_batches(run_batch, *, now: datetime, limit: int | None) -> int:
    """Run one kind of batch until none is left (in this process); how many were done."""
    done, after = 0, None
    while True:
        batch = run_batch(now=now, after=after, limit=limit)
        done += batch.done
        if not batch.more:
            return done
        after = batch.last_id


def drafts_expire(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Move every expired draft to the trash, a batch at a time; returns how many moved."""
    return _all_batches(drafts_expire_batch, now=now or timezone.now(), limit=limit)


def trash_purge_batch(
    *, now: datetime, after: str | None = None, limit: int | None = None
) -> Batch:
    """Purge up to `limit` creations (ids after `after`) that have been in the trash longer
    than PHOENIX_TRASH_DAYS: files deleted, words cleared, rows kept."""
    limit = _batch_size(limit)
    cutoff = now - timedelta(days=settings.PHOENIX_TRASH_DAYS)
    old_trash = Creation.objects.in_trash().filter(trashed_at__lte=cutoff)
    candidates = old_trash.order_by("pk")
    if after is not None:
        candidates = candidates.filter(pk__gt=after)
    rows = list(candidates[:limit])
    purged = 0
    for creation in rows:
        with transaction.atomic():
            # Read again under the row lock: one restored (and perhaps trashed again) since
            # has a new trash date.
            row = old_trash.select_for_update().filter(pk=creation.pk).first()
            if row is None:
                continue
            try:
                creation_purge(creation=row, now=now)
            except ActionRefused:
                continue
        purged += 1
    if purged:
        log.info("Purged %d creation(s) from the trash", purged)
    return Batch(purged, str(rows[-1].pk) if rows else after, len(rows) >= limit)


def trash_purge(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Purge everything due, a batch at a time. Idempotent: a purged creation is not purged
    again."""
    return _all_batches(trash_purge_batch, now=now or timezone.now(), limit=limit)


def source_copies_drop(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Delete the copies of the stills of failed and canceled videos that ended more than
    PHOENIX_SOURCE_COPY_DAYS ago (until then they can be run again from it), a batch at a
    time; returns how many went. Idempotent: a dropped copy is not looked at again."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PHOENIX_SOURCE_COPY_DAYS)
    ended = Coalesce("failed_at", "canceled_at")
    due = (
        Creation.objects.filter(status__in=Creation.ENDED_WITHOUT_MEDIA)
        .exclude(source_image="")
        .alias(ended_at=ended)
        .filter(ended_at__lte=cutoff)
        .order_by("pk")
    )
    dropped, after, size = 0, None, _batch_size(limit)
    while True:
        rows = list((due.filter(pk__gt=after) if after else due)[:size])
        for creation in rows:
            dropped += creation_drop_source_copy(creation=creation, now=now)
        if len(rows) < size:
            break
        after = rows[-1].pk
    if dropped:
        log.info("Deleted %d still copies of failed or canceled videos", dropped)
    return dropped


def housekeeping(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {"trashed": drafts_expire(now=now), "purged": trash_purge(now=now)}


EXPIRE, PURGE = "expire", "purge"


def housekeeping_step(*, now: datetime, stage: str = EXPIRE, after: str | None = None) -> dict:
    """One batch of the housekeeping: expiry first, then the purge. Returns what it did and,
    when there is more, where the next batch starts ({"next": (stage, after)})."""
    done = {"trashed": 0, "purged": 0}
    if stage == EXPIRE:
        batch = drafts_expire_batch(now=now, after=after)
        done["trashed"] = batch.done
        if batch.more:
            return {**done, "next": (EXPIRE, batch.last_id)}
        after = None
    elif stage != PURGE:
        raise ValueError(f"Unknown housekeeping stage {stage!r}; use {EXPIRE} or {PURGE}.")
    batch = trash_purge_batch(now=now, after=after)
    done["purged"] = batch.done
    if batch.more:
        return {**done, "next": (PURGE, batch.last_id)}
    return done


def housekeeping_run(
    *, now: str | None = None, stage: str = EXPIRE, after: str | None = None
) -> dict:
    """One batch of expiry or purge, then the next batch queued on `housekeeping` with the
    same moment, so that the whole run judges every creation by one `now`."""
    moment = parse_datetime(now) if now else timezone.now()
    done = housekeeping_step(now=moment, stage=stage, after=after)
    following = done.pop("next", None)
    if following is not None:
        next_stage, next_after = following
        try:
            sending.send_housekeeping_batch(
                moment.isoformat(), next_stage, next_after, timeout=HOUSEKEEPING_BATCH_TIMEOUT
            )
        except RedisError:
            # Tomorrow's run starts again from the beginning and reaches them.
            log.warning("Could not queue the next housekeeping batch; tomorrow's run will")
    return done
