"""Scheduled housekeeping: expiring old drafts. Run daily by the RQ cron (phoenix/cron.py)
and by `manage.py expire_drafts`; safe to run at any time, twice, or at once."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Creation
from .services import delete_stored_files

log = logging.getLogger(__name__)


def expired_drafts(*, now: datetime):
    """Unpublished drafts past the TTL, counted from when they became drafts."""
    cutoff = now - timedelta(days=settings.PHOENIX_DRAFT_TTL_DAYS)
    return (
        Creation.objects.filter(status=Creation.Status.DRAFT)
        .annotate(draft_since=Coalesce(F("draft_at"), F("created_at")))
        .filter(draft_since__lte=cutoff)
        .order_by("draft_since")
    )


def drafts_expire(*, now: datetime | None = None) -> int:
    """Delete expired drafts and their files; returns how many were deleted.

    Each row is deleted only if it is still a draft, so a draft published while this runs
    keeps its files. Files go after the row's COMMIT: a failed delete leaves an orphan
    file (logged), never a creation without its media. The ledger keeps its rows (its
    creation link has no database constraint, by design).
    """
    now = now or timezone.now()
    deleted = 0
    for creation in expired_drafts(now=now).only("id", "media", "poster").iterator():
        with transaction.atomic():
            _, per_model = Creation.objects.filter(
                pk=creation.pk, status=Creation.Status.DRAFT
            ).delete()
            count = per_model.get(Creation._meta.label, 0)
            if count:
                names = (creation.media.name, creation.poster.name)
                transaction.on_commit(lambda names=names: delete_stored_files(*names))
        if count:
            deleted += 1
    if deleted:
        log.info("Expired %d draft(s) older than %d days", deleted, settings.PHOENIX_DRAFT_TTL_DAYS)
    return deleted


def expire_drafts_job() -> int:
    """RQ cron entry point."""
    close_old_connections()
    try:
        return drafts_expire()
    finally:
        close_old_connections()
