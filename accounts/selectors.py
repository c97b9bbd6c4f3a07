from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import DataExport


def exports_of(user: AbstractBaseUser) -> list[DataExport]:
    """The user's exports that can still be downloaded or are being made, newest first."""
    now = timezone.now()
    return [
        export
        for export in DataExport.objects.filter(user_id=user.pk).order_by("-created_at")[:5]
        if export.expires_at is None or export.expires_at > now
    ]
