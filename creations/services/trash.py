"""Trash, keep one of a batch, restore (and undo), delete forever."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import events
from ..models import Creation
from .errors import (
    ActionRefused,
    refused,
)
from .state import (
    _apply,
    _end_shares,
    _locked,
    _take_state,
    delete_stored_files,
)

log = logging.getLogger(__name__)


def creation_trash(*, creation: Creation, now: datetime | None = None) -> Creation:
    """Into the trash, keeping its status and files: a post leaves the feed at once."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_trash:
            _take_state(creation, row)
            raise refused("not_trashable")
        _apply(creation, row, None, trashed_at=now or timezone.now())
        _end_shares(row, "trashed")
        events.announce("trashed", creation)
    return creation


def creation_keep(*, creation: Creation) -> list[Creation]:
    """ "Keep this one": every sibling the batch's grid shows (a drafts-tab item) that may go
    to the trash goes there, as Delete would move it (its shares ended); a post or a taken
    down item of the batch is not on that grid and stays, and one still generating stays
    (cancel it to stop it). The batch's rows are locked in order first, so the kept item's
    state and each sibling's are judged as they are now (two Keeps run one after the
    other). Returns the siblings trashed, for Undo."""
    with transaction.atomic():
        rows = list(
            Creation.objects.select_for_update()
            .filter(owner_id=creation.owner_id, batch_id=creation.batch_id)
            .exclude(batch_id__isnull=True)
            .order_by("batch_index")
        )
        row = next((row for row in rows if row.pk == creation.pk), None)
        if row is None or not row.can_keep:
            if row is not None:
                _take_state(creation, row)
            raise refused("not_keepable")
        trashed = []
        for sibling in rows:
            if sibling.pk == creation.pk or not sibling.is_on_drafts_tab:
                continue
            if not sibling.can_trash:
                continue
            trashed.append(creation_trash(creation=sibling))
    return trashed


def creation_unkeep(*, creation: Creation, sibling_ids: list) -> list[Creation]:
    """Undo of Keep this one: the given siblings of its batch come back from the trash as
    they were, as the Undo of a delete brings them (an id of another batch, or of someone
    else, is ignored)."""
    restored = []
    siblings = Creation.objects.filter(
        owner_id=creation.owner_id, batch_id=creation.batch_id, pk__in=sibling_ids
    ).exclude(pk=creation.pk)
    for sibling in siblings.order_by("batch_index"):
        try:
            restored.append(creation_restore(creation=sibling, undo=True))
        except ActionRefused:
            continue  # purged or restored meanwhile
    return restored


def creation_restore(
    *, creation: Creation, undo: bool = False, now: datetime | None = None
) -> Creation:
    """Out of the trash, as it was; a post (or a scheduled one) comes back as a draft. The
    Undo of a delete (`undo`, within PHOENIX_UNDO_SECONDS of it) takes the delete back
    whole: a post returns as the post it was, in its place in the feed, a scheduled one
    scheduled for the same time (the recovery pass publishes it if that time passed)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_restore:
            _take_state(creation, row)
            raise refused("not_in_trash")
        changes = {"trashed_at": None}
        target = row.restores_as if row.restores_as != row.status else None
        undone = (
            undo
            and row.status in (Creation.Status.PUBLISHED, Creation.Status.SCHEDULED)
            and row.trashed_at >= now - timedelta(seconds=settings.PHOENIX_UNDO_SECONDS)
        )
        if undone:
            target = None
        if target is not None or row.status == Creation.Status.DRAFT:
            # Back among the drafts: its expiry starts again.
            changes.update(redrafted_at=timezone.now(), publish_at=None, published_at=None)
        _apply(creation, row, target, **changes)
        _end_shares(row, "restored")
        events.announce("restored", creation)
    return creation


def creation_purge(*, creation: Creation, now: datetime | None = None) -> Creation:
    """Delete forever: the files go (after COMMIT) and the prompt and caption are cleared;
    the row stays, as the record the staff figures count. Only from the trash."""
    with transaction.atomic():
        row = _locked(creation)
        if not row.can_purge:
            _take_state(creation, row)
            raise refused("not_in_trash")
        names = (row.media.name, row.poster.name, row.source_image.name)
        _apply(
            creation,
            row,
            None,
            purged_at=now or timezone.now(),
            prompt="",
            caption="",
            media="",
            poster="",
            source_image="",
        )
        _end_shares(row, "purged")
        transaction.on_commit(lambda: delete_stored_files(*names))
        events.announce("purged", creation)
    return creation


def creation_drop_source_copy(*, creation: Creation, now: datetime | None = None) -> bool:
    """Housekeeping: a failed or canceled video's copy of the still it started from is
    deleted (after COMMIT); it cannot be run again from it afterwards. Returns whether it
    had one to drop."""
    with transaction.atomic():
        row = _locked(creation)
        name = row.source_image.name
        if row.status not in Creation.ENDED_WITHOUT_MEDIA or not name:
            _take_state(creation, row)
            return False
        _apply(creation, row, None, source_image="", source_image_dropped_at=now or timezone.now())
        transaction.on_commit(lambda: delete_stored_files(name))
    return True
