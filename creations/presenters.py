from collections import Counter

from django.urls import reverse

from tokens.selectors import creation_is_refunded

from .models import Creation

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
        "refunded": creation_is_refunded(creation),
        "created_at": creation.created_at.isoformat(),
        "caption": creation.caption,
        "published_at": moment(creation.published_at),
        "publish_at": moment(creation.publish_at),
        "trashed_at": moment(creation.trashed_at),
        "purged_at": moment(creation.purged_at),
        "takedown_reason": creation.takedown_reason or None,
        "actions": owner_actions(creation),
    }


def bulk_summary(results: dict[str, str]) -> dict:
    """How a bulk request went: how many were done, how many skipped, and why."""
    skipped = Counter(outcome for outcome in results.values() if outcome != "ok")
    return {
        "ok": len(results) - skipped.total(),
        "skipped": skipped.total(),
        "reasons": dict(skipped),
    }
