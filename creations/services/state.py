"""What the services' writes share: the locked row, the guarded change through the state
table, the caller's copy brought up to date, and the clean-ups after COMMIT."""

import logging

from django.core.files.storage import default_storage

from .. import events, fair_queue, queues, versions
from ..models import Creation, InvalidTransition
from .errors import (
    CreationGone,
)

log = logging.getLogger(__name__)


def _announce_refund(creation: Creation, refund) -> None:
    if refund is not None:
        events.announce("refunded", creation, amount=refund.amount)


def _take_state(creation: Creation, row: Creation) -> None:
    for field in Creation._meta.concrete_fields:
        setattr(creation, field.attname, getattr(row, field.attname))


def delete_stored_files(*names: str) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except Exception:
            log.exception("Could not delete stored file %s", name)


def _locked(creation: Creation) -> Creation:
    """The creation's row, locked for this transaction (the caller's atomic block)."""
    row = Creation.objects.select_for_update().filter(pk=creation.pk).first()
    if row is None:
        raise CreationGone()
    return row


def _end_shares(row: Creation, reason: str) -> None:
    """End the creation's shares in the caller's transaction, with the change that makes it
    no longer a shareable draft (or, on the way back to the drafts, any share left standing):
    a lost after-COMMIT listener can then never leave a share to revive later."""
    events.left_the_drafts.send(sender=Creation, creation=row, reason=reason)


def _apply(creation: Creation, row: Creation, target: str | None, **changes) -> None:
    """Write `changes` to the locked row (through the state table when the status changes)
    and give the caller's copy the result."""
    rows = Creation.objects.filter(pk=row.pk)
    if target is None:
        rows.update(**changes)
    elif not rows.transition(target, sources=[row.status], **changes):
        raise InvalidTransition(row.status, target)
    if target is not None:
        row.status = target
    for name, value in changes.items():
        setattr(row, name, value)
    # A new status, or into the trash and out: the drafts list changed too.
    versions.creation_changed(row, listing=target is not None or "trashed_at" in changes)
    _take_state(creation, row)


def leave_the_queue(creation: Creation) -> None:
    queue = queues.queue_for_kind(creation.kind)
    fair_queue.safely(
        fair_queue.forget, queue.connection, queue.name, queues.job_id_for(creation.id)
    )
