"""Bulk actions: each item is its own transaction, so one refusal does not undo the others."""

import logging
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from ..models import Creation
from .errors import (
    ActionRefused,
)
from .owner import (
    creation_cancel,
    creation_publish,
)
from .trash import (
    creation_purge,
    creation_restore,
    creation_trash,
)

log = logging.getLogger(__name__)


# Bulk actions: each item is its own transaction, so one refusal does not undo the others.
BULK_ACTIONS = {
    # An empty caption for all keeps each draft's own (an unpublished post keeps its caption).
    "publish": lambda creation, caption: creation_publish(
        creation=creation, caption=caption or None
    ),
    "trash": lambda creation, caption: creation_trash(creation=creation),
    "restore": lambda creation, caption: creation_restore(creation=creation),
    "cancel": lambda creation, caption: creation_cancel(creation=creation),
    "purge": lambda creation, caption: creation_purge(creation=creation),
}


class BulkRequestProblem(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_bulk_request(data) -> tuple[str, list[UUID], str]:
    """(action, ids, caption) of a bulk request, or BulkRequestProblem with nothing done."""
    if not isinstance(data, dict):
        raise BulkRequestProblem("malformed_request", "Send a JSON object.")
    action = data.get("action")
    if not isinstance(action, str) or action not in BULK_ACTIONS:
        raise BulkRequestProblem(
            "unknown_action", f"The action must be one of: {', '.join(BULK_ACTIONS)}."
        )
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids:
        raise BulkRequestProblem("invalid_ids", "ids must be a non-empty list of creation ids.")
    limit = settings.PHOENIX_BULK_MAX
    if len(ids) > limit:
        raise BulkRequestProblem(
            "too_many_ids", f"At most {limit} creations at once; this request has {len(ids)}."
        )
    parsed = []
    for value in ids:
        try:
            if not isinstance(value, str):
                raise ValueError
            parsed.append(UUID(value))
        except ValueError:
            raise BulkRequestProblem("invalid_ids", "Every id must be a creation id.") from None
    caption = data.get("caption", "")
    if caption is not None and not isinstance(caption, str):
        raise BulkRequestProblem("invalid_caption", "The caption must be text.")
    return action, list(dict.fromkeys(parsed)), caption or ""


def creations_bulk(
    *, owner: AbstractBaseUser, action: str, ids: list[UUID], caption: str = ""
) -> dict[str, str]:
    """Apply one action to each of the owner's creations; "ok" or the refusal's code per
    id. Someone else's id reads as not_found, like an unknown one."""
    apply = BULK_ACTIONS[action]
    owned = {c.pk: c for c in Creation.objects.filter(owner=owner, pk__in=ids)}
    results: dict[str, str] = {}
    for creation_id in ids:
        creation = owned.get(creation_id)
        if creation is None:
            results[str(creation_id)] = "not_found"
            continue
        try:
            apply(creation, caption)
        except ActionRefused as refusal:
            results[str(creation_id)] = refusal.code
        else:
            results[str(creation_id)] = "ok"
    return results
