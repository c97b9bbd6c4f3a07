"""Reads for the creator pages: drafts, posts and feed pages, one card, place in line.

Every page is one query for its rows (annotations included) plus, for pending cards, one
Redis round trip for their places in line, whatever the number of rows.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Q,
    QuerySet,
    TextField,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from redis.exceptions import RedisError
from rq import Worker

from phoenix.paging import Page, keyset_page, page_of, parse_cursor
from phoenix.prepared import STAND_IN_ID, PreparedQuery
from tokens.selectors import refunded_sql

from . import fair_queue
from .models import Creation
from .presenters import download_name, media_urls, wait_label
from .queues import QUEUE_FOR_KIND, get_queue, job_id_for

DRAFTS_PAGE_SIZE = 12
POSTS_PAGE_SIZE = 12
FEED_PAGE_SIZE = 10
TRASH_PAGE_SIZE = 12
DRAFT_TAB_STATUSES = Creation.DRAFT_TAB


def creations_page(queryset: QuerySet, *, order_field: str, cursor: str | None, size: int) -> Page:
    """A keyset page of creations (phoenix.paging), with their media URLs."""
    page = keyset_page(queryset, order_field=order_field, cursor=cursor, size=size)
    page.items = _with_media_urls(page.items)
    return page


def _with_media_urls(creations: list[Creation]) -> list[Creation]:
    media, posters = media_urls(creations, "media"), media_urls(creations, "poster")
    for creation, media_src, poster_src in zip(creations, media, posters, strict=True):
        creation.media_src = media_src
        creation.poster_src = poster_src
        creation.download_name = download_name(creation) if creation.media_src else ""
    return creations


# What a card shows beyond its row, as SQL that the drafts tab's query (annotations) and
# the card poll's one statement share: whether it was refunded. Its place in line comes
# from the queue itself (creations/fair_queue.py), never from other creators' rows.
_CREATIONS = Creation._meta.db_table
_REFUNDED_SQL, _REFUNDED_PARAMS = refunded_sql(_CREATIONS)
# "from ‹parent›": the parent's prompt ('' once purged: shown as deleted), in the same query.
_PARENT_PROMPT_SQL = (
    f"(SELECT parent.prompt FROM {_CREATIONS} AS parent "  # nosec B608
    f"WHERE parent.id = {_CREATIONS}.parent_id)"
)


def with_card_details(queryset: QuerySet) -> QuerySet:
    """The card's extra (refunded) as an annotation of the same query."""
    # The constant SQL above; every value in it is a bound parameter.
    refunded = RawSQL(_REFUNDED_SQL, _REFUNDED_PARAMS, BooleanField())  # nosec B611
    parent_prompt = RawSQL(_PARENT_PROMPT_SQL, [], TextField())  # nosec B611
    return queryset.annotate(refunded=refunded, parent_prompt=parent_prompt)


# ---------------------------------------------------------------------------------------
# How long a pending creation will wait.
#
# Images and videos wait in one fair order on shared workers (the Procfile's `worker`
# serves `images videos`; creations/fair_queue.py): what is ahead of a pending creation is
# exactly the jobs that the order starts before it, of either type, and whatever the
# workers are generating now; it goes as fast as the number of those workers.

# How many finished creations of a type make its "typical generation time".
TYPICAL_RUN_SAMPLE = 20
# With fewer finished runs than this the spread is not known: the wait says "a few minutes".
SURE_AFTER_RUNS = 5
# Used while a type has no finished creation yet: the seed's targets (images under 20 s,
# videos under 2 minutes). An estimate built on them says so ("a few minutes").
DEFAULT_RUN_SECONDS = {"image": 20.0, "video": 120.0}
# The typical runs change slowly, the workers rarely: read at most this often per process.
TYPICAL_RUN_CACHE_SECONDS = 30
WORKERS_CACHE_SECONDS = 5


@dataclass(frozen=True)
class QueueWorkers:
    """The workers that serve one type's queue: how many, and the types whose queues they
    also serve (`shared`) and take first (`first`)."""

    count: int
    shared: tuple[str, ...] = ()
    first: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunStats:
    """A type's last finished runs: their mean, the longest, and how many there were."""

    mean: float
    high: float
    runs: int


@dataclass(frozen=True)
class WaitEstimate:
    place: int  # 1: next in line
    seconds: float  # until it is ready: the wait for a worker and its own run
    sure: bool  # False: no worker now, or a type with little history (defaults used)
    starts_in: float = 0.0  # until a worker takes it (its card's next change)
    upper: float | None = None  # the same with every run as long as the longest lately

    @property
    def label(self) -> str:
        # Never a promise shorter than the upper bound.
        return wait_label(max(self.seconds, self.upper or 0.0), sure=self.sure)


def _stats(value) -> RunStats | None:
    """Typical runs come as RunStats, or as a bare mean (taken as well known)."""
    if value is None or isinstance(value, RunStats):
        return value
    return RunStats(mean=float(value), high=float(value), runs=TYPICAL_RUN_SAMPLE)


def estimate_wait(
    *,
    kind: str,
    ahead: dict[str, int],
    running: dict[str, int],
    typical: dict[str, float | None],
    workers: QueueWorkers,
) -> WaitEstimate:
    """The arithmetic of a pending creation's wait, from the queue and workers around it.

    `ahead` is how many jobs of each type start before it (the fair order's count),
    `running` how many of each type are being generated now; `typical` the typical run of
    each type in seconds (None: no history yet). The work ahead is each job ahead weighted
    by its type's typical run (one being generated counts half: on average it is half
    done), shared by the workers; then its own run.
    """
    sure = workers.count > 0
    seconds_of, high_of = {}, {}
    for each in {kind, *ahead, *running}:
        known = _stats(typical.get(each))
        if (known is None or known.runs < SURE_AFTER_RUNS) and (
            each == kind or ahead.get(each) or running.get(each)
        ):
            sure = False
        default = DEFAULT_RUN_SECONDS.get(each, DEFAULT_RUN_SECONDS["video"])
        seconds_of[each] = known.mean if known and known.mean else default
        high_of[each] = max(known.high, seconds_of[each]) if known else default
    share = max(workers.count, 1)
    # With no worker running the wait is unknown; as if one came, and said to be unsure.
    work = sum(count * seconds_of[each] for each, count in ahead.items())
    work += sum(count * seconds_of[each] / 2 for each, count in running.items())
    work /= share
    # The upper bound: every job ahead as long as the longest lately, and one being
    # generated may have just started.
    worst = sum(count * high_of[each] for each, count in ahead.items())
    worst += sum(count * high_of[each] for each, count in running.items())
    worst /= share
    return WaitEstimate(
        place=sum(ahead.values()) + 1,
        seconds=work + seconds_of[kind],
        sure=sure,
        starts_in=work,
        upper=worst + high_of[kind],
    )


def processing_estimate(creation: Creation, typical: dict, *, now: datetime) -> WaitEstimate:
    """A creation being generated: what is left of the longest recent run of its type."""
    known = _stats(typical.get(creation.kind))
    default = DEFAULT_RUN_SECONDS.get(creation.kind, DEFAULT_RUN_SECONDS["video"])
    mean = known.mean if known else default
    high = max(known.high, mean) if known else default
    elapsed = (now - creation.processing_at).total_seconds() if creation.processing_at else 0.0
    sure = known is not None and known.runs >= SURE_AFTER_RUNS
    return WaitEstimate(
        place=0, seconds=max(mean - elapsed, 0.0), sure=sure, upper=max(high - elapsed, 0.0)
    )


# The mean run of each type's last TYPICAL_RUN_SAMPLE runs that reached a draft, newest
# claims first: one statement for every type, each read along the kind/processing_at index.
_TYPICAL_RUNS_SQL = f"""
SELECT kinds.kind, stats.mean, stats.high, stats.runs
FROM unnest(%s::text[]) AS kinds(kind)
CROSS JOIN LATERAL (
  SELECT extract(epoch FROM avg(last.draft_at - last.processing_at)) AS mean,
         extract(epoch FROM max(last.draft_at - last.processing_at)) AS high,
         count(*) AS runs
  FROM (
    SELECT draft_at, processing_at FROM {_CREATIONS}
    WHERE kind = kinds.kind AND processing_at IS NOT NULL AND draft_at IS NOT NULL
    ORDER BY processing_at DESC LIMIT %s
  ) AS last
) AS stats
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def typical_run_stats_of(kinds: list[str]) -> dict[str, RunStats | None]:
    """Over each type's last TYPICAL_RUN_SAMPLE finished runs (draft_at - processing_at):
    their mean, the longest and how many; None for a type without any."""
    with connection.cursor() as cursor:
        cursor.execute(_TYPICAL_RUNS_SQL, [kinds, TYPICAL_RUN_SAMPLE])
        return {
            kind: RunStats(mean=float(mean), high=float(high), runs=int(runs)) if runs else None
            for kind, mean, high, runs in cursor.fetchall()
        }


def typical_generation_seconds_of(kinds: list[str]) -> dict[str, float | None]:
    """The mean run of each type (None: no finished run yet)."""
    return {
        kind: stats.mean if stats else None for kind, stats in typical_run_stats_of(kinds).items()
    }


def typical_generation_seconds(kind: str) -> float | None:
    return typical_generation_seconds_of([kind])[kind]


# What a card's estimate reads beside its own place, kept in the process as well as in the
# cache: a card that renders (a poll that found news) would otherwise pay a round trip to
# the cache Redis for each (key: (monotonic expiry, value)).
_memo: dict[str, tuple[float, object]] = {}


def _remembered(key: str, seconds: float, compute):
    found = _memo.get(key)
    now = time.monotonic()
    if found is not None and found[0] > now:
        return found[1]
    value = cache.get(key)
    if value is None:
        value = compute()
        if value is None:
            return None
        cache.set(key, value, seconds)
    _memo[key] = (now + seconds, value)
    return value


def forget_remembered(key: str | None = None) -> None:
    """Drop the process's copies (all, or one key's), as when their time has passed."""
    if key is None:
        _memo.clear()
    else:
        _memo.pop(key, None)


def typical_runs() -> dict[str, float | None]:
    """The typical run of every type, through the cache: one query a process in 30 s."""
    return _remembered(
        "creations:typical-runs",
        TYPICAL_RUN_CACHE_SECONDS,
        lambda: typical_run_stats_of(list(Creation.Kind.values)),
    )


def _read_queue_workers() -> dict[str, QueueWorkers] | None:
    kind_of_queue = {queue: kind for kind, queue in QUEUE_FOR_KIND.items()}
    try:
        redis = get_queue("default").connection
        layout = {}
        for kind, queue_name in QUEUE_FOR_KIND.items():
            found = Worker.all(connection=redis, queue=get_queue(queue_name))
            shared, first = set(), set()
            for worker in found:
                names = worker.queue_names()
                served = [kind_of_queue[name] for name in names if name in kind_of_queue]
                shared.update(other for other in served if other != kind)
                first.update(served[: served.index(kind)] if kind in served else [])
            layout[kind] = QueueWorkers(
                count=len(found), shared=tuple(sorted(shared)), first=tuple(sorted(first))
            )
        return layout
    except RedisError:
        return None


def queue_workers() -> dict[str, QueueWorkers]:
    """Who serves each type's queue, read from RQ's worker registry, cached for a few
    seconds (a card poll must stay cheap). With Redis unreachable: nobody, for now."""
    layout = _remembered("creations:queue-workers", WORKERS_CACHE_SECONDS, _read_queue_workers)
    if layout is None:
        return {kind: QueueWorkers(count=0) for kind in QUEUE_FOR_KIND}
    return layout


def with_queue_estimates(
    creations: list[Creation], *, known: fair_queue.PollRead | None = None
) -> list[Creation]:
    """Give each pending creation its place in line (`place_in_line`, 1: next; `ahead`,
    the jobs that start before it) and its wait (`wait`, a WaitEstimate): one Redis round
    trip for the page, O(log n) per card; the typical runs and the workers come from the
    cache. A pending creation whose job is not in the queue (lost; the recovery pass sends
    it again) or a Redis that does not answer gives no place. `known`: one pending
    creation's place as its poll read it (then Redis is not asked again)."""
    pending, processing = [], []
    for creation in creations:
        creation.wait = creation.place_in_line = creation.ahead = None
        if creation.status == Creation.Status.PENDING:
            pending.append(creation)
        elif creation.status == Creation.Status.PROCESSING:
            processing.append(creation)
    if processing:
        # Being generated: what is left of the longest recent run (the typical runs are
        # cached; no query per card).
        typical, now = typical_runs(), datetime.now(UTC)
        for creation in processing:
            creation.wait = processing_estimate(creation, typical, now=now)
    if not pending:
        return creations
    kind_of_queue = {queue: kind for kind, queue in QUEUE_FOR_KIND.items()}
    if known is not None and len(pending) == 1:
        places, running = [known.place], known.running
    else:
        jobs = [(QUEUE_FOR_KIND[c.kind], job_id_for(c.id)) for c in pending]
        try:
            places, running = fair_queue.ahead_of(get_queue("images").connection, jobs)
        except RedisError:
            return creations
    typical, layout = typical_runs(), queue_workers()
    running_by_kind = {kind_of_queue[queue]: n for queue, n in running.items() if n}
    for creation, place in zip(pending, places, strict=True):
        if place is None:
            continue
        creation.wait = estimate_wait(
            kind=creation.kind,
            ahead={kind_of_queue[queue]: n for queue, n in place.items() if n},
            running=running_by_kind,
            typical=typical,
            workers=layout.get(creation.kind, QueueWorkers(count=0)),
        )
        creation.place_in_line = creation.wait.place
        creation.ahead = creation.wait.place - 1
    return creations


def _drafts_tab(owner_id) -> QuerySet:
    return with_card_details(
        Creation.objects.not_trashed().filter(owner_id=owner_id, status__in=DRAFT_TAB_STATUSES)
    )


# The drafts tab's first page, which every visit and every new creation asks for, compiled
# once per process (phoenix.prepared): the same statement as keyset_page's, without the ~1 ms
# of compiling it on each page (make bench, issue 19).
_DRAFTS_FIRST_PAGE = PreparedQuery(
    lambda owner_id: _drafts_tab(owner_id).order_by("-created_at", "-pk")[: DRAFTS_PAGE_SIZE + 1],
    owner_id=STAND_IN_ID,
)


def drafts_page(*, owner: AbstractBaseUser, cursor: str | None = None) -> Page:
    if parse_cursor(cursor) is None:
        rows = _DRAFTS_FIRST_PAGE.rows(owner_id=owner.pk)
        page = page_of(rows, order_field="created_at", size=DRAFTS_PAGE_SIZE)
        page.items = _with_media_urls(page.items)
    else:
        queryset = _drafts_tab(owner.pk)
        page = creations_page(
            queryset, order_field="created_at", cursor=cursor, size=DRAFTS_PAGE_SIZE
        )
    with_queue_estimates(page.items)
    return page


def drafts_newer(*, owner: AbstractBaseUser, after: str | None) -> list[Creation]:
    """The owner's drafts-tab creations newer than the cursor `after` (the newest card a
    tab shows), newest first, at most a page of them; with no cursor, the first page."""
    queryset = with_card_details(
        Creation.objects.not_trashed().filter(owner=owner, status__in=DRAFT_TAB_STATUSES)
    )
    shown = parse_cursor(after)
    if shown is not None:
        moment, pk = shown
        queryset = queryset.filter(Q(created_at__gt=moment) | Q(created_at=moment, pk__gt=pk))
    items = _with_media_urls(list(queryset.order_by("-created_at", "-pk")[:DRAFTS_PAGE_SIZE]))
    return with_queue_estimates(items)


def trash_page(*, owner: AbstractBaseUser, cursor: str | None = None) -> Page:
    """The owner's trash, most recently trashed first (purged ones are gone from it)."""
    queryset = with_card_details(Creation.objects.in_trash().filter(owner=owner))
    return creations_page(queryset, order_field="trashed_at", cursor=cursor, size=TRASH_PAGE_SIZE)


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
            .annotate(posted_at=Coalesce("first_published_at", "taken_down_at"))
        )
        order_field = "posted_at"
    else:
        queryset = Creation.objects.public().filter(owner=owner)
        order_field = "first_published_at"
    return creations_page(
        queryset.select_related("owner"),
        order_field=order_field,
        cursor=cursor,
        size=POSTS_PAGE_SIZE,
    )


def feed_page(*, cursor: str | None = None) -> Page:
    queryset = Creation.objects.public().select_related("owner")
    return creations_page(
        queryset, order_field="first_published_at", cursor=cursor, size=FEED_PAGE_SIZE
    )


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
  {_PARENT_PROMPT_SQL} AS parent_prompt
FROM {_CREATIONS}
WHERE {_CREATIONS}.id = %s AND {_CREATIONS}.owner_id = %s
"""  # nosec B608 # table names from model metadata; every value is a bound parameter


def card_for_owner(
    *, owner: AbstractBaseUser, creation_id: UUID, queue_read: fair_queue.PollRead | None = None
) -> Creation:
    """One creation with everything its card shows, or 404 — for someone else's too.

    One query for the row and whether it was refunded; a pending card's place in line is
    one Redis round trip, or none when the poll read it already (`queue_read`, read before
    the row); the typical runs and the workers come from the cache.
    """
    if not owner.is_authenticated:
        raise Http404("No such creation.")
    params = [*_REFUNDED_PARAMS, creation_id, owner.pk]
    creation = next(iter(Creation.objects.raw(_CARD_SQL, params)), None)
    if creation is None:
        raise Http404("No such creation.")
    _with_media_urls([creation])
    with_queue_estimates([creation], known=queue_read)
    return creation


def grouped_by_batch(creations: list[Creation]) -> list[list[Creation]]:
    """The drafts tab's cards as groups: a batch's items together (in their order) where its
    first item stands, every other creation alone. No query: the rows are already here."""
    groups: list[list[Creation]] = []
    batches: dict = {}
    for creation in creations:
        if creation.batch_id is None:
            groups.append([creation])
        elif creation.batch_id in batches:
            batches[creation.batch_id].append(creation)
        else:
            batches[creation.batch_id] = [creation]
            groups.append(batches[creation.batch_id])
    for items in batches.values():
        items.sort(key=lambda item: item.batch_index)
    return groups


def batch_cards(*, owner: AbstractBaseUser, batch_id) -> list[Creation]:
    """A batch's cards on the drafts tab (not in the trash), with what each card shows: one
    query for them all."""
    queryset = with_card_details(
        Creation.objects.not_trashed().filter(
            owner=owner, batch_id=batch_id, status__in=DRAFT_TAB_STATUSES
        )
    )
    items = _with_media_urls(list(queryset.order_by("batch_index")))
    return with_queue_estimates(items)


def batch_for_owner(*, owner: AbstractBaseUser, batch_id) -> list[Creation]:
    """The owner's batch in order; empty for someone else's or an unknown one."""
    return list(Creation.objects.filter(owner=owner, batch_id=batch_id).order_by("batch_index"))


# Media URLs for apps above this one that list posts (community), as these pages have them.
with_media_urls = _with_media_urls
