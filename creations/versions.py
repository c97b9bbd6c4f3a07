"""Versions kept in Redis, so that a poll that finds nothing new costs no SQL.

Three kinds, each a key on the queue Redis (phoenix.redis_clients: one client per process):

- a creation's card (`card_key`): bumped by every change its card shows (status, progress,
  refund, trash, restore, caption, ...);
- an owner's drafts list (`drafts_key`): bumped when one of their creations is created or
  changes status, or goes to the trash or comes back (a creation started in another tab
  then appears on an open drafts tab);
- a user's bell (`bell_key`): bumped when a notification for them is written or read.

A poll carries the version it was rendered with; the same version in Redis means nothing
changed (204). The services bump after COMMIT (`bump_on_commit`), in the same code path as
the change, so a poll that sees the new version also sees the new row.

A version is not a counter: it is the time of the bump in microseconds, raised above the
value it replaces if a clock lags. A counter would start again at 1 after Redis lost its
keys (a flush, a failover to a replica that had not caught up), and a browser still
holding an old 1 would be told "nothing new" about a card that changed. A key that is
missing reads as unknown: the poll renders, and the render sets a fresh version.

Redis trouble never fails a write: a bump that fails is logged, and the polls bound how
long they trust a version (polling.MAX_STALE_SECONDS), so a lost bump delays a card, it
does not freeze it.
"""

import logging
import time
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from redis import Redis
from redis.exceptions import RedisError

from phoenix import redis_clients

log = logging.getLogger(__name__)

# Longer than anything polls without a change (a pending creation is failed as stalled long
# before): a version that expired reads as unknown, which only costs one render.
TTL_SECONDS = 7 * 24 * 3600

_BUMP = """
local now = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  local value = now
  local old = tonumber(redis.call('GET', key) or '0')
  if old and value <= old then value = old + 1 end
  redis.call('SET', key, string.format('%d', value), 'EX', ARGV[2])
end
return 1
"""


def card_key(creation_id) -> str:
    return f"phoenix:version:card:{creation_id}"


def drafts_key(owner_id) -> str:
    return f"phoenix:version:drafts:{owner_id}"


def bell_key(user_id) -> str:
    return f"phoenix:version:bell:{user_id}"


def connection() -> Redis:
    """The queue Redis, tried once without the failover wait (redis_clients.probe_redis): a bump
    runs after COMMIT on the request's or the job's time, and a poll falls back to rendering
    — neither should wait out a failover for a version (a create refused while Redis is
    down would otherwise wait for each of its bumps as well)."""
    return redis_clients.probe_redis()


def _now() -> int:
    return time.time_ns() // 1000


# After a Redis error this process leaves the versions alone for a moment: a bulk action
# of a hundred changes, or every poll of a busy process, would otherwise each wait for a
# Redis that does not answer. Meanwhile polls render (as before versions) and bumps are
# skipped (polls trust a version for a bounded time only).
PAUSE_SECONDS = 5.0
_paused_until = 0.0  # time.monotonic()


def paused() -> bool:
    return time.monotonic() < _paused_until


def note_failure(what: str) -> None:
    global _paused_until
    _paused_until = time.monotonic() + PAUSE_SECONDS
    log.warning("Redis refused %s; versions left alone for %.0f s", what, PAUSE_SECONDS)


def reset() -> None:
    """Forget a pause (in tests)."""
    global _paused_until
    _paused_until = 0.0


def bump(*keys: str) -> None:
    """Give each key a new version now, in one round trip. Never raises: the change is
    committed already, and a lost bump only delays a poll (see the module's doc)."""
    if not keys or paused():
        return
    try:
        redis = connection()
        redis.register_script(_BUMP)(keys=list(keys), args=[_now(), TTL_SECONDS])
    except RedisError:
        note_failure(f"a version bump ({', '.join(keys)})")


def bump_on_commit(*keys: str) -> None:
    """Bump after COMMIT (at once without a transaction); nothing if it rolls back."""
    if keys:
        transaction.on_commit(partial(bump, *keys), robust=True)


def creation_changed(creation, *, listing: bool = True) -> None:
    """A change its card shows; `listing`: one its owner's drafts list should hear about
    too (created, a new status, into the trash and back)."""
    keys = [card_key(creation.pk)]
    if listing:
        keys.append(drafts_key(creation.owner_id))
    bump_on_commit(*keys)


def creations_changed(creations: Iterable) -> None:
    """creation_changed for several of one owner's creations (a batch), in one bump."""
    keys = [card_key(creation.pk) for creation in creations]
    owners = dict.fromkeys(creation.owner_id for creation in creations)
    bump_on_commit(*keys, *(drafts_key(owner_id) for owner_id in owners))


def bell_changed(user_ids: Iterable) -> None:
    bump_on_commit(*(bell_key(user_id) for user_id in dict.fromkeys(user_ids)))


def parse(value: bytes | str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read(*keys: str) -> list[int | None]:
    """The versions of the keys, one round trip; None for each that is unknown (missing,
    or Redis unreachable)."""
    if not keys:
        return []
    if paused():
        return [None] * len(keys)
    try:
        redis = connection()
        values = [redis.get(keys[0])] if len(keys) == 1 else redis.mget(list(keys))
    except RedisError:
        note_failure("a version read")
        return [None] * len(keys)
    return [parse(value) for value in values]


def ensure(key: str) -> int | None:
    """The key's version, set now if it has none (a render that found it unknown gives its
    polls something to compare with). None when Redis is unreachable."""
    if paused():
        return None
    try:
        pipe = connection().pipeline(transaction=False)
        pipe.set(key, _now(), ex=TTL_SECONDS, nx=True)
        pipe.get(key)
        _, value = pipe.execute()
    except RedisError:
        note_failure("a version read")
        return None
    return parse(value)


def claim(*keys: str) -> list[int | None]:
    """A version for each key that has none, set now, in one round trip: the value set for
    each key this call created, None for each that another writer set meanwhile (a change
    this call's caller may not have seen) or when Redis is unreachable. Safe to give a
    render that read its rows before: a change after those rows bumps after this."""
    if not keys or paused():
        return [None] * len(keys)
    now = _now()
    try:
        pipe = connection().pipeline(transaction=False)
        for key in keys:
            pipe.set(key, now, ex=TTL_SECONDS, nx=True)
        created = pipe.execute()
    except RedisError:
        note_failure("a version claim")
        return [None] * len(keys)
    return [now if made else None for made in created]
