"""The site-wide daily cap on welcome grants. A farm that gets past the per-address and
per-network limits (catch-all domains, many networks) still cannot take more than the
day's cap; a real creator confirmed on a capped day waits for the hourly catch-up."""

import datetime

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from .models import PendingWelcome, WelcomeDay


def today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def slot_take() -> bool:
    """Count one grant against today's cap; False (nothing counted) when the cap is
    reached. One conditional upsert: concurrent confirmations queue on the day's row, and
    the count can never pass the cap. Call inside the grant's transaction."""
    cap = settings.PHOENIX_WELCOME_GRANTS_PER_DAY
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {WelcomeDay._meta.db_table} (day, granted) VALUES (%s, 1)
            ON CONFLICT (day) DO UPDATE SET granted = {WelcomeDay._meta.db_table}.granted + 1
            WHERE %s = 0 OR {WelcomeDay._meta.db_table}.granted < %s
            RETURNING granted
            """,  # nosec B608: the table name is the model's, the values are parameters
            [today(), cap, cap],
        )
        return cursor.fetchone() is not None


def slot_give_back() -> None:
    """The slot taken was not used (the address had its welcome before)."""
    WelcomeDay.objects.filter(day=today(), granted__gt=0).update(granted=F("granted") - 1)


def granted_today() -> int:
    return WelcomeDay.objects.filter(day=today()).values_list("granted", flat=True).first() or 0


def hold(user) -> None:
    PendingWelcome.objects.get_or_create(user=user)


def held_count() -> int:
    return PendingWelcome.objects.count()
