"""Keyset paging, newest first, for any app's lists: stable while new rows arrive at the
top, and as fast on the thousandth page as on the first."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.db.models import Q, QuerySet

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str | None = None


def cursor_for(moment: datetime, pk: UUID) -> str:
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}-{pk.hex}"


def parse_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    """A cursor names the last row shown: its ordering time and id. Junk reads as none."""
    if not cursor:
        return None
    try:
        micros, pk = cursor.split("-", 1)
        return _EPOCH + timedelta(microseconds=int(micros)), UUID(hex=pk)
    except (ValueError, OverflowError):
        return None


def keyset_page(queryset: QuerySet, *, order_field: str, cursor: str | None, size: int) -> Page:
    """The rows after `cursor`, newest first by (order_field, pk), and the next cursor."""
    after = parse_cursor(cursor)
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(
            Q(**{f"{order_field}__lt": moment}) | Q(**{order_field: moment, "pk__lt": pk})
        )
    rows = list(queryset.order_by(f"-{order_field}", "-pk")[: size + 1])
    return page_of(rows, order_field=order_field, size=size)


def page_of(rows: list, *, order_field: str, size: int) -> Page:
    """A page made of the first `size` + 1 rows after the cursor (newest first by
    (order_field, pk)): the extra row only says that there is a next page."""
    items = rows[:size]
    next_cursor = None
    if len(rows) > size:
        last = items[-1]
        next_cursor = cursor_for(getattr(last, order_field), last.pk)
    return Page(items=items, next_cursor=next_cursor)
