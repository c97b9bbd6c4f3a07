"""Reads for the creator pages: drafts, posts and feed pages, one card, place in line.

Every page is one query for its rows (annotations included) plus at most one small
aggregate for queue estimates, whatever the number of rows.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import (
    Avg,
    BooleanField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from tokens.selectors import refunded_sql

from .models import Creation
from .presenters import media_url

DRAFTS_PAGE_SIZE = 12
POSTS_PAGE_SIZE = 12
FEED_PAGE_SIZE = 10
TRASH_PAGE_SIZE = 12
DRAFT_TAB_STATUSES = Creation.DRAFT_TAB
# How far back finished creations count towards the "typical generation time".
ETA_WINDOW = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    items: list[Creation] = field(default_factory=list)
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


def _page(queryset: QuerySet, *, order_field: str, cursor: str | None, size: int) -> Page:
    """Keyset pagination, newest first: stable while new rows arrive at the top."""
    after = parse_cursor(cursor)
    if after is not None:
        moment, pk = after
        queryset = queryset.filter(
            Q(**{f"{order_field}__lt": moment}) | Q(**{order_field: moment, "pk__lt": pk})
        )
    rows = list(queryset.order_by(f"-{order_field}", "-pk")[: size + 1])
    items = rows[:size]
    next_cursor = None
    if len(rows) > size:
        last = items[-1]
        next_cursor = cursor_for(getattr(last, order_field), last.pk)
    return Page(items=_with_media_urls(items), next_cursor=next_cursor)


def _with_media_urls(creations: list[Creation]) -> list[Creation]:
    for creation in creations:
        creation.media_src = media_url(creation, "media")
        creation.poster_src = media_url(creation, "poster")
    return creations


# What a card shows beyond its row, as SQL that the drafts tab's query (annotations) and
# the card poll's one statement share: whether it was refunded, and for a pending one its
# place in its type's line.
_CREATIONS = Creation._meta.db_table
_REFUNDED_SQL, _REFUNDED_PARAMS = refunded_sql(_CREATIONS)
_PLACE_IN_LINE_SQL = f"""CASE WHEN {_CREATIONS}.status = %s THEN 1 + (
    SELECT count(*) FROM {_CREATIONS} AS ahead
    WHERE ahead.status = %s AND ahead.kind = {_CREATIONS}.kind
      AND ahead.created_at < {_CREATIONS}.created_at
  ) END"""
_PLACE_IN_LINE_PARAMS = [Creation.Status.PENDING, Creation.Status.PENDING]


def with_card_details(queryset: QuerySet) -> QuerySet:
    """The card's extras (refunded, place_in_line) as annotations of the same query."""
    return queryset.annotate(
        refunded=RawSQL(_REFUNDED_SQL, _REFUNDED_PARAMS, output_field=BooleanField()),
        place_in_line=RawSQL(
            _PLACE_IN_LINE_SQL, _PLACE_IN_LINE_PARAMS, output_field=IntegerField()
        ),
    )


def _recent_runs(now: datetime) -> QuerySet:
    """Finished creations of the last hour, whose runs make the "typical generation time"."""
    return Creation.objects.filter(
        status__in=Creation.FINISHED,
        created_at__gte=now - ETA_WINDOW,
        processing_at__isnull=False,
        draft_at__isnull=False,
    ).order_by()


def _average_run() -> Avg:
    return Avg(ExpressionWrapper(F("draft_at") - F("processing_at"), output_field=DurationField()))


def typical_generation_seconds(kind: str, *, now: datetime | None = None) -> float:
    """Average processing time of one type over the last hour; 0.0 when there was none."""
    average = _recent_runs(now or timezone.now()).filter(kind=kind).aggregate(a=_average_run())
    return average["a"].total_seconds() if average["a"] else 0.0


def with_queue_estimates(creations: list[Creation]) -> list[Creation]:
    """Give each pending creation a rough ETA: its place in line times the typical run.

    The typical runs come from the same per-type cache as the card poll's.
    """
    kinds = {c.kind for c in creations if c.status == Creation.Status.PENDING}
    typical = {kind: typical_run_seconds(kind) for kind in kinds}
    for creation in creations:
        seconds = typical.get(creation.kind)
        place = getattr(creation, "place_in_line", None)
        creation.eta_seconds = round(place * seconds) if seconds and place else None
    return creations


def drafts_page(*, owner: AbstractBaseUser, cursor: str | None = None) -> Page:
    queryset = with_card_details(
        Creation.objects.not_trashed().filter(owner=owner, status__in=DRAFT_TAB_STATUSES)
    )
    page = _page(queryset, order_field="created_at", cursor=cursor, size=DRAFTS_PAGE_SIZE)
    with_queue_estimates(page.items)
    return page


def trash_page(*, owner: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The owner's trash, most recently trashed first (purged ones are gone from it)."""
    queryset = with_card_details(Creation.objects.in_trash().filter(owner=owner))
    return _page(queryset, order_field="trashed_at", cursor=cursor, size=TRASH_PAGE_SIZE)


def posts_page(
    *, owner: AbstractBaseUser, cursor: str | None = None, for_owner: bool = False
) -> Page:
    """A creator's posts. Its owner also sees the ones staff took down (with the reason)."""
    if for_owner:
        # Newest post first, as visitors see them; one taken down before its scheduled time
        # was never published and sorts by its take-down.
        queryset = (
            Creation.objects.not_trashed()
            .filter(owner=owner, status__in=Creation.POSTS_TAB)
            .annotate(posted_at=Coalesce("published_at", "taken_down_at"))
        )
        order_field = "posted_at"
    else:
        queryset = Creation.objects.public().filter(owner=owner)
        order_field = "published_at"
    return _page(
        queryset.select_related("owner"),
        order_field=order_field,
        cursor=cursor,
        size=POSTS_PAGE_SIZE,
    )


def feed_page(*, cursor: str | None = None) -> Page:
    queryset = Creation.objects.public().select_related("owner")
    return _page(queryset, order_field="published_at", cursor=cursor, size=FEED_PAGE_SIZE)


def post_for_viewer(*, viewer: AbstractBaseUser, creation_id) -> Creation:
    """One post's page: public ones for anyone; its owner also sees it taken down."""
    try:
        creation_id = UUID(str(creation_id))
    except ValueError:
        raise Http404("No such post.") from None
    creation = Creation.objects.public().select_related("owner").filter(pk=creation_id).first()
    if creation is None and viewer.is_authenticated:
        creation = (
            Creation.objects.not_trashed()
            .filter(pk=creation_id, owner=viewer, status__in=Creation.POSTS_TAB)
            .select_related("owner")
            .first()
        )
    if creation is None:
        raise Http404("No such post.")
    return _with_media_urls([creation])[0]


# The card of one creation, in one statement: a pending card is polled every two seconds by
# every waiting creator, and building and compiling this as an annotated queryset cost
# more than the rest of the poll (about 3 ms of ORM work against 0.5 ms for the same SQL
# written out).
_CARD_SQL = f"""
SELECT {_CREATIONS}.*,
  {_REFUNDED_SQL} AS refunded,
  {_PLACE_IN_LINE_SQL} AS place_in_line
FROM {_CREATIONS}
WHERE {_CREATIONS}.id = %s AND {_CREATIONS}.owner_id = %s
"""
# The typical run behind a pending card's ETA changes slowly: it is read at most this often
# per process and type, instead of on every poll.
TYPICAL_RUN_CACHE_SECONDS = 30


def typical_run_seconds(kind: str) -> float | None:
    """typical_generation_seconds through the cache."""
    key = f"creations:typical-run:{kind}"
    seconds = cache.get(key)
    if seconds is None:
        # 0.0 stands for "no recent runs", so that it is cached too.
        seconds = typical_generation_seconds(kind)
        cache.set(key, seconds, TYPICAL_RUN_CACHE_SECONDS)
    return seconds or None


def card_for_owner(*, owner: AbstractBaseUser, creation_id: UUID) -> Creation:
    """One creation with everything its card shows, or 404 — for someone else's too.

    One query for the row, whether it was refunded and its place in line; the typical run
    for a pending card's ETA comes from the cache.
    """
    if not owner.is_authenticated:
        raise Http404("No such creation.")
    params = [*_REFUNDED_PARAMS, *_PLACE_IN_LINE_PARAMS, creation_id, owner.pk]
    creation = next(iter(Creation.objects.raw(_CARD_SQL, params)), None)
    if creation is None:
        raise Http404("No such creation.")
    _with_media_urls([creation])
    place = creation.place_in_line
    seconds = typical_run_seconds(creation.kind) if place else None
    creation.eta_seconds = round(place * seconds) if seconds else None
    return creation
