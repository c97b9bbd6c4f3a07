"""Scheduled housekeeping: old drafts to the trash, old trash purged. Run daily by the RQ
cron (phoenix/cron.py) and by `manage.py expire_drafts`; safe to run at any time,
twice, or at once."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import Creation
from .services import ActionRefused, creation_purge, creation_trash

log = logging.getLogger(__name__)


def expired_drafts(*, now: datetime):
    """Unpublished drafts past the TTL, counted from when they (last) became drafts;
    scheduled ones and those already in the trash are not."""
    cutoff = now - timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS)
    since = Greatest(
        Coalesce(F("draft_at"), F("created_at")), Coalesce(F("redrafted_at"), F("created_at"))
    )
    return (
        Creation.objects.filter(status=Creation.Status.DRAFT, trashed_at__isnull=True)
        .annotate(draft_since=since)
        .filter(draft_since__lte=cutoff)
        .order_by("draft_since")
    )


def drafts_expire(*, now: datetime | None = None) -> int:
    """Move expired drafts to the trash (where they are purged after PHOENIX_TRASH_DAYS);
    returns how many moved. Each goes through the trash service, which re-checks it under
    its row lock, so a draft published while this runs is left alone."""
    now = now or timezone.now()
    moved = 0
    for creation in expired_drafts(now=now).iterator():
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
    return moved


def trash_purge(*, now: datetime | None = None) -> int:
    """Purge what has been in the trash longer than PHOENIX_TRASH_DAYS: files deleted, words
    cleared, rows kept. Idempotent: a purged creation is not purged again."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PHOENIX_TRASH_DAYS)
    purged = 0
    old_trash = Creation.objects.in_trash().filter(trashed_at__lte=cutoff)
    for creation in old_trash.iterator():
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
    return purged


def housekeeping(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {"trashed": drafts_expire(now=now), "purged": trash_purge(now=now)}


def expire_drafts_job() -> dict[str, int]:
    """RQ cron entry point: expired drafts to the trash, old trash purged."""
    close_old_connections()
    try:
        return housekeeping()
    finally:
        close_old_connections()
