from django.urls import reverse

from .models import Creation


def media_url(creation: Creation, which: str = "media") -> str:
    """Media always goes through the access-checking view (drafts are private)."""
    if not getattr(creation, which):
        return ""
    return reverse("creation_media", args=[creation.id, which])


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
        "refunded": creation.ledger_entries.filter(kind="refund").exists(),
        "created_at": creation.created_at.isoformat(),
    }
