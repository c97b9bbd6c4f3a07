"""What a poll carries, and the cheap answer when nothing changed.

A polled element (a card, the drafts list, the bell) asks with the fingerprint it was
rendered with in its URL: `v` its version (creations.versions), for a pending card `a` its
place in the queue (`k` its type, to find the queue), `u` the moment after which it asks
for a render anyway, and `t` a token signed by the server naming what it may ask about (a
card: its id and owner; a list or a bell: its owner). A poll whose token is good and whose
fingerprint is still the one in Redis is answered 204 (htmx swaps nothing) after one
Redis round trip, without the session, the user or the database. Anything else — no
token, a forged or foreign one, a changed or unknown version, a Redis that does not
answer — takes the normal path, which checks the session and renders as before (or 404s).

A replay of the URL behaves as the browser's poll: everything the answer depends on is
in the URL.

`u` bounds how long a version is trusted: a bump lost to a Redis outage delays an update
by at most MAX_STALE_SECONDS, and a pending card far from its turn renders again when its
ETA comes near, to poll faster from then on.
"""

import re
import time
import uuid
from dataclasses import dataclass
from functools import wraps
from urllib.parse import parse_qsl, urlencode

from django.core import signing
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from redis.exceptions import RedisError

from phoenix.paging import Page, cursor_for

from . import fair_queue, queues, versions
from .models import Creation

CARD_SALT = "phoenix.creations.card-poll"
DRAFTS_SALT = "phoenix.creations.drafts-poll"
# Where phoenix.fast_polls leaves its check for the view (request.META).
EARLY_CHECK = "phoenix.poll_check"
BELL_SALT = "phoenix.notifications.bell-poll"

# A card polls every MIN_EVERY seconds once its ETA is this near (or unknown), and at most
# every MAX_EVERY seconds before, never more than the time left to its ETA.
NEAR_SECONDS = 30
MIN_EVERY = 2
MAX_EVERY = 10
# However unchanged its version, a poll renders again after this long.
MAX_STALE_SECONDS = 60
# A pending card whose place in the queue is not known (not queued, or a queue that cannot
# tell) renders this often: its place may have moved without a version bump.
UNKNOWN_PLACE_STALE_SECONDS = 10
# The drafts tab's own check for creations started elsewhere (another tab, the API).
DRAFTS_EVERY = 5


# What never_cache would add, written once: the answer that must cost the least should not
# parse and rebuild its own headers.
NOTHING_NEW_HEADERS = {
    "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate, private",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
}


def nothing_new() -> HttpResponse:
    """204: htmx swaps nothing and the element polls on (a 304 it did not ask for would be
    swapped in as empty)."""
    return HttpResponse(status=204, headers=NOTHING_NEW_HEADERS)


def never_cache_unless_unchanged(view):
    """never_cache for the answers that render; the 204 carries its headers already."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 204:
            add_never_cache_headers(response)
        return response

    return answer


# ---------------------------------------------------------------------------------------
# Tokens: "<owner id>.<signature>" of what the poll may ask about.


def token(salt: str, subject: str, owner_id) -> str:
    return f"{owner_id}.{signing.Signer(salt=salt).signature(f'{subject}:{owner_id}')}"


def token_owner(salt: str, subject: str, value: str | None) -> str | None:
    """The owner id a token names, if the server signed it for `subject`; else None."""
    if not value:
        return None
    owner, _, signature = value.partition(".")
    if not (owner.isascii() and owner.isdigit()) or not signature:
        return None
    try:
        signing.Signer(salt=salt).unsign(f"{subject}:{owner}:{signature}")
    except signing.BadSignature:
        return None
    return owner


def query_of(request) -> dict[str, str]:
    """The poll's parameters, read straight from the query string: building request.GET
    (a QueryDict) cost a poll more than checking its token. {} for anything odd."""
    return params_of(request.META.get("QUERY_STRING", ""))


def params_of(query_string: str) -> dict[str, str]:
    try:
        return dict(parse_qsl(query_string, keep_blank_values=True, max_num_fields=12))
    except ValueError:
        return {}


def _int(value: str | None) -> int | None:
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def _expired(params) -> bool:
    until = params.get("u")
    if until is None:
        return False
    until = _int(until)
    return until is None or time.time() >= until


# ---------------------------------------------------------------------------------------
# A card.


@dataclass(frozen=True)
class CardFingerprint:
    version: int | None  # None: unknown (missing in Redis, or Redis unreachable)
    ahead: int | None = None
    pending: bool = False  # read as a pending card's (with its place in the queue)
    # The queue as that read saw it: the card's wait estimate comes from it too.
    queue: fair_queue.PollRead | None = None


def card_fingerprint(creation_id, *, shown: str | None, kind: str | None) -> CardFingerprint:
    """The card's version, and for a pending card its place in the queue: one round trip."""
    key = versions.card_key(creation_id)
    if shown == Creation.Status.PENDING and kind in queues.QUEUE_FOR_KIND:
        if versions.paused():
            return CardFingerprint(version=None, pending=True)
        try:
            read = fair_queue.poll_read(
                versions.connection(),
                version_key=key,
                queue_name=queues.QUEUE_FOR_KIND[kind],
                job_id=queues.job_id_for(creation_id),
            )
        except RedisError:
            versions.note_failure("a version read")
            return CardFingerprint(version=None, pending=True)
        return CardFingerprint(
            version=read.version or None, ahead=read.ahead, pending=True, queue=read
        )
    return CardFingerprint(version=versions.read(key)[0])


@dataclass
class CardCheck:
    """A card poll's request, checked before anything else is looked at."""

    creation_id: object
    params: object
    owner_id: str | None = None
    fingerprint: CardFingerprint | None = None

    @classmethod
    def of(cls, request, creation_id) -> "CardCheck":
        # Checked already before Django (phoenix.fast_polls): its read is not made again.
        early = request.META.get(EARLY_CHECK)
        if isinstance(early, CardCheck) and early.creation_id == creation_id:
            return early
        return cls.of_query(query_of(request), creation_id)

    @classmethod
    def of_query(cls, params: dict[str, str], creation_id) -> "CardCheck":
        check = cls(creation_id=creation_id, params=params)
        check.owner_id = token_owner(CARD_SALT, str(creation_id), check.params.get("t"))
        return check

    def unchanged(self) -> bool:
        """True when the card the browser shows is still the card: 204, nothing else read."""
        params = self.params
        shown_version = _int(params.get("v"))
        if self.owner_id is None or shown_version is None or _expired(params):
            return False
        self.fingerprint = self.read()
        current = self.fingerprint
        if current.version is None or current.version != shown_version:
            return False
        if current.pending:
            return "a" in params and params["a"] == _ahead_param(current.ahead)
        return True

    def read(self) -> CardFingerprint:
        if self.fingerprint is None:
            self.fingerprint = card_fingerprint(
                self.creation_id, shown=self.params.get("shown"), kind=self.params.get("k")
            )
        return self.fingerprint

    def before_render(self) -> CardFingerprint:
        """What the render's URL will carry, read before the card's row (a change committed
        after this read bumps the version after it, so the next poll renders again). A
        card whose version is unknown gets one — only for a good token, so that strangers
        cannot make keys for ids of their choosing."""
        current = self.read()
        if current.version is None and self.owner_id is not None:
            version = versions.ensure(versions.card_key(self.creation_id))
            current = self.fingerprint = CardFingerprint(
                version=version, ahead=current.ahead, pending=current.pending, queue=current.queue
            )
        return current


def _ahead_param(ahead: int | None) -> str:
    return "" if ahead is None else str(ahead)


def card_timing(creation: Creation, *, now: float) -> tuple[int, int]:
    """(every how many seconds it polls, until when its version is trusted). A pending
    card's next change is its start: the time left is the wait for a worker (a card next
    in line on an idle worker polls every MIN_EVERY seconds, whatever its own run)."""
    wait = getattr(creation, "wait", None)
    left = wait.starts_in if wait is not None and creation.status == Creation.Status.PENDING else 0
    if left <= NEAR_SECONDS:
        return MIN_EVERY, int(now + MAX_STALE_SECONDS)
    every = max(MIN_EVERY, min(MAX_EVERY, int((left - NEAR_SECONDS) // 2)))
    return every, int(now + min(MAX_STALE_SECONDS, left - NEAR_SECONDS))


def set_card_poll(
    creation: Creation,
    fingerprint: CardFingerprint | None,
    *,
    now: float | None = None,
    trust_seconds: float | None = None,
) -> Creation:
    """Give an in-flight card its poll: `poll_url` (with the fingerprint it shows) and
    `poll_every`. Without a known version the URL asks for a render each time;
    `trust_seconds` shortens how long its version is trusted."""
    now = time.time() if now is None else now
    every, until = card_timing(creation, now=now)
    if creation.status == Creation.Status.PENDING and (
        fingerprint is None or fingerprint.ahead is None
    ):
        until = min(until, int(now + UNKNOWN_PLACE_STALE_SECONDS))
    if trust_seconds is not None:
        until = min(until, int(now + trust_seconds))
    params = {"shown": creation.status}
    # The place its URL vouches for (None: not read here); what the card says of its place
    # should be this very number, read once before the row.
    creation.poll_ahead = fingerprint.ahead if fingerprint is not None else None
    if fingerprint is not None and fingerprint.version is not None:
        params["v"] = fingerprint.version
        if creation.status == Creation.Status.PENDING:
            params["k"] = creation.kind
            if fingerprint.pending:
                params["a"] = _ahead_param(fingerprint.ahead)
        params["u"] = until
        params["t"] = token(CARD_SALT, str(creation.pk), creation.owner_id)
    url = reverse("creation_card", args=[creation.pk])
    creation.poll_url = f"{url}?{urlencode(params)}"
    creation.poll_every = every
    return creation


def card_poll_url(creation: Creation, *, expires: bool = True) -> str:
    """The URL an in-flight card polls with now, as its render would give it (one Redis
    round trip; a version set if unknown). Without `expires` it carries no `u`: it stays
    "unchanged" until the card changes (what a benchmark replays)."""
    check = CardCheck(creation_id=creation.pk, params={"shown": creation.status})
    check.params["k"] = creation.kind
    check.owner_id = str(creation.owner_id)
    set_card_poll(creation, check.before_render())
    if expires:
        return creation.poll_url
    return re.sub(r"&u=\d+", "", creation.poll_url)


def with_card_polls(creations: list[Creation], *, owner_id, list_version: int | None) -> None:
    """Polls for the in-flight cards of a list of `owner_id`'s creations, read after their
    rows: their versions and the owner's list version in one round trip. The list version
    read before the rows (`list_version`) guards the order: any status change since bumped
    it, and then no card version is trusted (their first polls render). A card without a
    version (a flushed Redis, an expired key) gets one now (versions.claim: only where no
    other writer set one meanwhile). A pending card's URL vouches for the place the page
    shows (`ahead`, read from the queue before these versions: a place that moved since
    makes its first poll render; an unknown place is trusted for a few seconds only)."""
    in_flight = [c for c in creations if c.is_in_flight]
    if not in_flight:
        return
    keys = [versions.drafts_key(owner_id), *(versions.card_key(c.pk) for c in in_flight)]
    now_list, *found = versions.read(*keys)
    if list_version is None or now_list != list_version:
        found = [None] * len(in_flight)
    elif None in found:
        missing = [keys[1 + i] for i, version in enumerate(found) if version is None]
        claimed = iter(versions.claim(*missing))
        found = [next(claimed) if version is None else version for version in found]
    now = time.time()
    for creation, version in zip(in_flight, found, strict=True):
        pending = creation.status == Creation.Status.PENDING
        fingerprint = CardFingerprint(
            version=version, ahead=getattr(creation, "ahead", None), pending=pending
        )
        # The versions are read after the rows: a change that bumps only its card (progress,
        # a refund) between the two would be vouched for by a row that does not show it.
        # Such a card renders again within UNKNOWN_PLACE_STALE_SECONDS, not a minute.
        set_card_poll(creation, fingerprint, now=now, trust_seconds=UNKNOWN_PLACE_STALE_SECONDS)


# ---------------------------------------------------------------------------------------
# One version per owner: the drafts list, the bell.


@dataclass
class OwnerCheck:
    params: object
    key_of: object
    salt: str = ""
    owner_id: str | None = None
    version: int | None = None
    read_done: bool = False

    @classmethod
    def of(cls, request, *, salt: str, subject: str, key_of) -> "OwnerCheck":
        early = request.META.get(EARLY_CHECK)
        if isinstance(early, OwnerCheck) and early.salt == salt:
            return early
        return cls.of_query(query_of(request), salt=salt, subject=subject, key_of=key_of)

    @classmethod
    def of_query(cls, params: dict[str, str], *, salt: str, subject: str, key_of) -> "OwnerCheck":
        check = cls(params=params, key_of=key_of, salt=salt)
        check.owner_id = token_owner(salt, subject, check.params.get("t"))
        return check

    def unchanged(self) -> bool:
        shown_version = _int(self.params.get("v"))
        if self.owner_id is None or shown_version is None or _expired(self.params):
            return False
        if not self.read_done:
            (self.version,) = versions.read(self.key_of(self.owner_id))
            self.read_done = True
        return self.version is not None and self.version == shown_version

    def before_render(self, user_id) -> int | None:
        """The version the render's URL carries, read before what it shows (set now if
        unknown)."""
        if not (self.read_done and self.owner_id == str(user_id)):
            (self.version,) = versions.read(self.key_of(user_id))
        if self.version is None:
            self.version = versions.ensure(self.key_of(user_id))
        return self.version


@dataclass(frozen=True)
class OwnerPoll:
    url: str
    every: int


def owner_poll(
    url: str,
    *,
    salt: str,
    subject: str,
    owner_id,
    version: int | None,
    every: int,
    stale_after: int = MAX_STALE_SECONDS,
    **extra,
) -> OwnerPoll:
    params = {key: value for key, value in extra.items() if value}
    if version is not None:
        params.update(
            v=version,
            u=int(time.time() + stale_after),
            t=token(salt, subject, owner_id),
        )
    return OwnerPoll(url=f"{url}?{urlencode(params)}" if params else url, every=every)


def drafts_version(owner_id) -> int | None:
    """The owner's list version, read before their drafts (set now if unknown)."""
    (version,) = versions.read(versions.drafts_key(owner_id))
    return version if version is not None else versions.ensure(versions.drafts_key(owner_id))


def drafts_tab_polls(user, page: Page, *, version: int | None) -> OwnerPoll:
    """The first page of the drafts tab, whose list `version` was read before its rows:
    each in-flight card's poll, and the tab's own poll for creations started elsewhere
    (the newest card it shows: what is newer gets added at the top)."""
    with_card_polls(page.items, owner_id=user.pk, list_version=version)
    return drafts_poll(user, version, page.items[0] if page.items else None, "")


def drafts_poll(user, version, newest: Creation | None, after: str) -> OwnerPoll:
    return owner_poll(
        reverse("drafts_poll"),
        salt=DRAFTS_SALT,
        subject="drafts",
        owner_id=user.pk,
        version=version,
        every=DRAFTS_EVERY,
        after=cursor_for(newest.created_at, newest.pk) if newest else after,
    )


# ---------------------------------------------------------------------------------------
# The same checks before Django (phoenix.fast_polls, PHOENIX_FAST_POLLS): the paths are
# phoenix/urls.py's (tests/creations/test_fast_polls.py holds them to reverse()).

UUID_PATH = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def early_check(environ, check):
    """Keep the check made before Django for the view that answers the poll when it finds
    something new: what it read is not read again."""
    environ[EARLY_CHECK] = check
    return check.unchanged()


def _card_unchanged(match: re.Match, environ) -> bool:
    params = params_of(environ.get("QUERY_STRING", ""))
    return early_check(environ, CardCheck.of_query(params, uuid.UUID(match["id"])))


def _drafts_unchanged(match: re.Match, environ) -> bool:
    params = params_of(environ.get("QUERY_STRING", ""))
    return early_check(
        environ,
        OwnerCheck.of_query(params, salt=DRAFTS_SALT, subject="drafts", key_of=versions.drafts_key),
    )


FAST_POLLS = [
    (re.compile(rf"/creations/(?P<id>{UUID_PATH})/card"), _card_unchanged),
    (re.compile(r"/creations/drafts/poll"), _drafts_unchanged),
]
