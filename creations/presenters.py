import math
from collections import Counter
from pathlib import PurePosixPath
from uuid import UUID

from django.urls import reverse
from django.utils.text import slugify

from tokens.selectors import creation_is_refunded

from .models import Creation
from .providers import honours_seed

# What the owner may do with a creation, each the model's can_<action> predicate. Each is
# an endpoint under /api/creations/<id>/ except "schedule" (publish with a publish_at) and
# "edit_caption" (…/caption).
OWNER_ACTIONS = (
    "cancel",
    "publish",
    "schedule",
    "unschedule",
    "unpublish",
    "edit_caption",
    "trash",
    "restore",
    "purge",
)


def media_url(creation: Creation, which: str = "media") -> str:
    """Media always goes through the access-checking view (drafts are private)."""
    if not getattr(creation, which):
        return ""
    return reverse("creation_media", args=[creation.id, which])


_SAMPLE_ID = UUID(int=0)


def media_urls(creations: list[Creation], which: str) -> list[str]:
    """media_url of each, with one URL reversal for them all rather than one each (a page
    of cards reversed two dozen)."""
    before, after = reverse("creation_media", args=[_SAMPLE_ID, which]).split(str(_SAMPLE_ID))
    return [f"{before}{c.id}{after}" if getattr(c, which) else "" for c in creations]


# Beyond this the wait is "more than N minutes": a long queue drifts too much to promise.
LONG_WAIT_SECONDS = 10 * 60
# An estimate built on a guess (no worker running now, too little history) says only this
# much.
ROUGH_WAIT_SECONDS = 5 * 60


def wait_label(seconds: float, *, sure: bool) -> str:
    """When it will be ready, in words from the estimate's upper bound, never promising
    less: bands round up ("within a minute", "within 3 minutes"); from a guess "in a few
    minutes"; a long queue "in more than 10 minutes"."""
    if seconds >= LONG_WAIT_SECONDS or (not sure and seconds > ROUGH_WAIT_SECONDS):
        floor = max(5, int(seconds / 60) // 5 * 5)
        return f"in more than {floor} minutes"
    if not sure:
        return "in a few minutes"
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "within a minute"
    return f"within {minutes} minutes"


def download_name(creation: Creation) -> str:
    """What a downloaded file is called: "phoenix-a-red-fox-in-the-snow-1a2b3c4d.png"."""
    extension = PurePosixPath(creation.media.name or "").suffix
    words = slugify(creation.prompt)[:48].strip("-") or creation.kind
    return f"phoenix-{words}-{creation.id.hex[:8]}{extension}"


def moment(value) -> str | None:
    return value.isoformat() if value else None


def owner_actions(creation: Creation) -> list[str]:
    return [action for action in OWNER_ACTIONS if getattr(creation, f"can_{action}")]


def creation_as_json(creation: Creation) -> dict:
    return {
        "creation_id": str(creation.id),
        "status": creation.status,
        "type": creation.kind,
        "prompt": creation.prompt,
        "aspect_ratio": creation.aspect_ratio or None,
        "orientation": creation.orientation or None,
        "progress": creation.progress,
        "media_url": media_url(creation, "media") or None,
        "poster_url": media_url(creation, "poster") or None,
        "width": creation.width,
        "height": creation.height,
        "duration_seconds": creation.duration_seconds,
        "error_code": creation.error_code or None,
        "error_message": creation.error_message or None,
        "cost": creation.cost,
        # A page's rows carry it as an annotation (selectors.with_card_details).
        "refunded": creation.refunded
        if hasattr(creation, "refunded")
        else creation_is_refunded(creation),
        "created_at": creation.created_at.isoformat(),
        "caption": creation.caption,
        "published_at": moment(creation.published_at),
        "publish_at": moment(creation.publish_at),
        "trashed_at": moment(creation.trashed_at),
        "purged_at": moment(creation.purged_at),
        "takedown_reason": creation.takedown_reason or None,
        "actions": owner_actions(creation),
        "seed": creation.seed,
        # False where the configured provider ignores seeds: the same seed is no promise.
        "seed_honored": honours_seed(creation.kind),
        "parent_id": str(creation.parent_id) if creation.parent_id else None,
        "batch_id": str(creation.batch_id) if creation.batch_id else None,
        # The owner's star (a favourite): the library's "starred" filter.
        "starred": creation.starred_at is not None,
        # A pending creation's place in line, from the fair order itself: how many queued
        # jobs start before it, and when it should be ready (selectors.with_queue_estimates).
        "ahead": getattr(creation, "ahead", None),
        "eta_seconds": eta_seconds(creation),
    }


def eta_seconds(creation: Creation) -> int | None:
    wait = getattr(creation, "wait", None)
    return round(wait.seconds) if wait is not None else None


def bulk_summary(results: dict[str, str]) -> dict:
    """How a bulk request went: how many were done, how many skipped, and why."""
    skipped = Counter(outcome for outcome in results.values() if outcome != "ok")
    return {
        "ok": len(results) - skipped.total(),
        "skipped": skipped.total(),
        "reasons": dict(skipped),
    }
