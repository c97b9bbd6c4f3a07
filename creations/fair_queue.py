"""One fair order for generation jobs: round-robin by creator, across images and videos.

The rule. Every queued job has a *round*. A creator's new job goes to the round after their
last queued one, or to the round being served now if that is later (a creator who had
nothing waiting joins the current round). Jobs start in order of round, and inside a round
in the order they joined it. So a creator with 500 images queued holds rounds r..r+499,
and another creator's single video or image joins the current round: it waits behind at
most one job of each other creator waiting in that round, whatever their types.

The structure. RQ keeps a queue as a Redis list that workers pop from the head; the fair
order cannot be kept in a list without reading it (the old placement read the whole list
on every enqueue). Instead each fair queue (`images`, `videos`) keeps its job ids in a
sorted set, scored `round * 2**20 + place in the round` (exact in a double for 2**32
rounds), and the rounds are shared by all fair queues, so the scores of an image and a
video compare. Everything is one Lua script each (atomic against every other client),
and costs O(log n) in the depth of the queue:

- enqueue: RQ's own unique-job check and job hash, then ZADD at the creator's round
  (`_ENQUEUE`); the creator's last round and each round's fill are small keys that expire;
- dequeue (`_POP`): the lowest score among the worker's queues, by ZRANGE 0 0 of each —
  or, for a plain RQ queue in the same worker's list (`default`), RQ's LPOP;
- cancel and RQ's remove: ZREM (the creator's later jobs keep their rounds); a count of
  each creator's waiting jobs is kept beside the order, and a creator with none waiting
  (all canceled, or all started) joins the round being served, like anyone new;
- place in line (`_AHEAD`): ZCOUNT of the lower scores in each queue the same workers
  serve — the number of jobs that will really start before this one.

RQ stays RQ: the job ids are RQ's (`creation-<id>`), jobs are RQ jobs run by
`manage.py rqworker` on any number of hosts (the queue class comes from RQ_QUEUES'
QUEUE_CLASS, so django-rq's rqworker, its dashboard and our own clients build the same
class), and stop-job, the registries and the dashboard work as before (`count` and the
job listing read the sorted set).

A worker killed mid-dequeue. RQ's own answer is its intermediate list: BLMOVE the job id
into it, and maintenance later *fails* what is left there. Here the pop moves the job id
into a `claimed` sorted set scored by the time of the pop, in the same script, and the
worker takes it out once the job is in RQ's started registry (`FairWorkerMixin`). A job
still claimed after CLAIM_GRACE_SECONDS whose RQ status is still `queued` was popped by a
worker that died before starting it: the recovery pass (`requeue_abandoned`) puts it back
at the head of the order, in one script that checks the claim and the status, so two
recovery passes at once requeue it once. It is never run twice: a job that had started is
`started` (not requeued), and the creation's claim (pending → processing, a guarded
UPDATE) lets one delivery through whatever Redis says.

Sentinel failover. Redis replicates asynchronously: a failover can lose the last writes
before it. A lost enqueue leaves a pending creation with no job, which the recovery pass
sends again (it already did for a flushed Redis); a lost pop leaves a job that another
worker will pop again, and the creation's claim lets one of the two run; a lost claimed
entry is the killed-worker case above. Every script touches only its own keys and reads
nothing it did not just write, so none of them is left half-done by a failover.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django_rq.queues import DjangoRQ
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import DequeueTimeout, DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.scripts import _build_hset_args
from rq.utils import as_text

# A round's width in a score (2**20, written out in the scripts).
ROUND = 2**20
PREFIX = "phoenix:fair"
ROUND_KEY = f"{PREFIX}:round"
CLAIMED_KEY = f"{PREFIX}:claimed"
WAKE_KEY = f"{PREFIX}:wake"
# Each queued job's creator, and how many jobs each creator has waiting.
OWNERS_KEY = f"{PREFIX}:owners"
# A popped job's creator, kept while the job is claimed: a requeue gives it back.
CLAIMED_OWNERS_KEY = f"{PREFIX}:claimed:owners"
QUEUED_PREFIX = f"{PREFIX}:queued:"
# A round's fill matters only while its jobs wait: it expires a day after its last use. (A
# creator's last round and count of waiting jobs live exactly as long as they have one.)
MEMO_SECONDS = 24 * 3600
# A job popped but not started after this long was popped by a worker that died.
CLAIM_GRACE_SECONDS = 60
# How long one blocking wait for a new job lasts before the worker looks again.
WAIT_SLICE_SECONDS = 1.0

_ENQUEUE = """
-- KEYS: job hash, order zset, round, last-round key of the owner, fill prefix, wake list,
--       RQ's set of queues, queue key, owners hash, queued-count key of the owner
-- ARGV: job id, unique ("1"/"0"), at front ("1"/"0"), ttl, memo ttl, owner, hset fields...
if ARGV[2] == "1" and redis.call("EXISTS", KEYS[1]) == 1 then return 0 end
if #ARGV > 6 then redis.call("HSET", KEYS[1], unpack(ARGV, 7)) end
local ttl = tonumber(ARGV[4])
if ttl and ttl > 0 then redis.call("EXPIRE", KEYS[1], ttl) else redis.call("PERSIST", KEYS[1]) end
local served = tonumber(redis.call("GET", KEYS[3]) or "0")
local round = served
if ARGV[3] ~= "1" then
  -- The creator's last round counts only while they have a job waiting: one who canceled
  -- (or whose jobs all started) joins the round being served, like anyone new.
  local last = -1
  if tonumber(redis.call("GET", KEYS[10]) or "0") > 0 then
    last = tonumber(redis.call("GET", KEYS[4]) or "-1")
  end
  if last + 1 > round then round = last + 1 end
  -- Kept while the creator has a job waiting (it goes with their count, _LEFT).
  redis.call("SET", KEYS[4], round)
end
local place = 0
if ARGV[3] ~= "1" then
  local fill = KEYS[5] .. round
  place = redis.call("INCR", fill)
  redis.call("EXPIRE", fill, ARGV[5])
  if place >= 1048576 then place = 1048576 - 1 end
end
if redis.call("ZADD", KEYS[2], round * 1048576 + place, ARGV[1]) == 1 then
  redis.call("HSET", KEYS[9], ARGV[1], ARGV[6])
  redis.call("INCR", KEYS[10])
end
redis.call("SADD", KEYS[7], KEYS[8])
redis.call("LPUSH", KEYS[6], 1)
redis.call("LTRIM", KEYS[6], 0, 99)
return 1
"""

# A job leaving the order (popped, dropped, canceled): its creator has one job fewer waiting.
_LEFT = """
local function left_the_order(owners, prefix, id)
  local owner = redis.call("HGET", owners, id)
  if owner then
    redis.call("HDEL", owners, id)
    -- A creator's count and last round live exactly while they have a job waiting.
    if redis.call("DECR", prefix .. "queued:" .. owner) <= 0 then
      redis.call("DEL", prefix .. "queued:" .. owner, prefix .. "last:" .. owner)
    end
  end
end
"""

_POP = (
    _LEFT
    + """
-- KEYS: order zsets (one per queue key, in the same order), round, claimed, then the
--       queue keys (RQ lists), then the owners hash, then the claimed jobs' owners hash
-- ARGV: number of queues, key prefix, job hash prefix
local n = tonumber(ARGV[1])
-- A claim is timed by Redis's clock, the one the recovery pass compares it with on any host.
local clock = redis.call("TIME")
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- A head whose job is gone or no longer queued (RQ's own cancel and delete remove a job
-- from RQ's list, not from here) is dropped; a few at most per pop.
for _ = 1, 100 do
  local best, best_score, best_i = nil, nil, nil
  for i = 1, n do
    local head = redis.call("ZRANGE", KEYS[i], 0, 0, "WITHSCORES")
    if head[1] then
      local score = tonumber(head[2])
      if best_score == nil or score < best_score then
        best, best_score, best_i = head[1], score, i
      end
    end
  end
  if not best then break end
  redis.call("ZREM", KEYS[best_i], best)
  local owner = redis.call("HGET", KEYS[2 * n + 3], best)
  left_the_order(KEYS[2 * n + 3], ARGV[2], best)
  if redis.call("HGET", ARGV[3] .. best, "status") == "queued" then
    local round = math.floor(best_score / 1048576)
    local served = tonumber(redis.call("GET", KEYS[n + 1]) or "0")
    if round > served then redis.call("SET", KEYS[n + 1], round) end
    redis.call("ZADD", KEYS[n + 2], now_ms, best)
    if owner then redis.call("HSET", KEYS[2 * n + 4], best, owner) end
    return {KEYS[n + 2 + best_i], best}
  end
end
for i = 1, n do
  local id = redis.call("LPOP", KEYS[n + 2 + i])
  if id then return {KEYS[n + 2 + i], id} end
end
return nil
"""
)

_REMOVE = (
    _LEFT
    + """
-- KEYS: order zset, owners hash; ARGV: job id, key prefix
if redis.call("ZREM", KEYS[1], ARGV[1]) == 0 then return 0 end
left_the_order(KEYS[2], ARGV[2], ARGV[1])
return 1
"""
)

_AHEAD = """
-- KEYS: order zsets of the queues that the same workers serve, then their started
--       registries, then the claimed set
-- ARGV: number of queues, then pairs (index of the job's queue, job id)
-- Per job: -1 not queued, -2 popped and starting now, else the count of lower scores in
-- each queue; then the started (running) count of each queue.
local n = tonumber(ARGV[1])
local out = {}
for a = 2, #ARGV, 2 do
  local mine = tonumber(ARGV[a])
  local id = ARGV[a + 1]
  local score = redis.call("ZSCORE", KEYS[mine], id)
  if not score then
    if redis.call("ZSCORE", KEYS[2 * n + 1], id) then
      table.insert(out, {-2})
    else
      table.insert(out, {-1})
    end
  else
    local counts = {}
    for i = 1, n do
      counts[i] = redis.call("ZCOUNT", KEYS[i], "-inf", "(" .. score)
    end
    table.insert(out, counts)
  end
end
local running = {}
for i = 1, n do running[i] = redis.call("ZCARD", KEYS[n + i]) end
table.insert(out, running)
return out
"""

_POLL = """
-- KEYS: version key, order zsets of the queues the same workers serve, then their started
--       registries, then the claimed set
-- ARGV: index of the job's queue, job id
-- The card's version; -1 (not queued), -2 (popped, starting now) or 0 then the count of
-- lower scores in each queue; then the started (running) count of each queue.
local version = tonumber(redis.call("GET", KEYS[1]) or "0")
local n = (#KEYS - 2) / 2
local out = {version}
local score = redis.call("ZSCORE", KEYS[1 + tonumber(ARGV[1])], ARGV[2])
if not score then
  if redis.call("ZSCORE", KEYS[#KEYS], ARGV[2]) then out[2] = -2 else out[2] = -1 end
else
  out[2] = 0
  for i = 1, n do
    table.insert(out, redis.call("ZCOUNT", KEYS[1 + i], "-inf", "(" .. score))
  end
end
for i = 1, n do table.insert(out, redis.call("ZCARD", KEYS[1 + n + i])) end
return out
"""

_REQUEUE = """
-- KEYS: claimed, round, claimed jobs' owners hash, owners hash, then per candidate: its
--       order zset and its job hash
-- ARGV: cutoff (ms), key prefix, then the candidates' job ids
local served = tonumber(redis.call("GET", KEYS[2]) or "0")
local moved = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local order, hash = KEYS[3 + 2 * (i - 2)], KEYS[4 + 2 * (i - 2)]
  local claimed = redis.call("ZSCORE", KEYS[1], id)
  if claimed and tonumber(claimed) <= tonumber(ARGV[1]) then
    redis.call("ZREM", KEYS[1], id)
    local owner = redis.call("HGET", KEYS[3], id)
    redis.call("HDEL", KEYS[3], id)
    if redis.call("HGET", hash, "status") == "queued" then
      redis.call("ZADD", order, served * 1048576, id)
      moved = moved + 1
      -- Waiting again: counted among its creator's waiting jobs, as at its enqueue (their
      -- next job then goes after it, not beside it).
      if owner then
        redis.call("HSET", KEYS[4], id, owner)
        if redis.call("INCR", ARGV[2] .. "queued:" .. owner) == 1 then
          redis.call("SET", ARGV[2] .. "last:" .. owner, served)
        end
      end
    end
  end
end
return moved
"""

_scripts: dict[tuple[int, str], object] = {}


def _script(connection: Redis, source: str):
    key = (id(connection), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = connection.register_script(source)
    return script


def order_key(queue_name: str) -> str:
    return f"{PREFIX}:order:{queue_name}"


def _name_of(queue_key: str) -> str:
    return as_text(queue_key).removeprefix(DjangoRQ.redis_queue_namespace_prefix)


class FairQueue(DjangoRQ):
    """An RQ queue whose jobs wait in the fair order (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A queue not named fair is RQ's plain list: every method below hands it to RQ.
        self.fair = self.name in settings.PHOENIX_FAIR_QUEUES

    @property
    def order_key(self) -> str:
        return order_key(self.name)

    # Enqueue --------------------------------------------------------------------------

    def enqueue_job(self, job: Job, pipeline=None, at_front: bool = False, unique: bool = False):
        # RQ first registers the queue in a round trip of its own; the fair enqueue script
        # does that too (one round trip per create, not two). Jobs with dependencies take
        # RQ's own path.
        if not self.fair or job._dependency_ids:
            return super().enqueue_job(job, pipeline=pipeline, at_front=at_front, unique=unique)
        if unique and not job._id:
            raise ValueError("unique=True requires an explicit job_id")
        job.origin = self.name
        return self._enqueue_job(job, pipeline=pipeline, at_front=at_front, unique=unique)

    def _enqueue_async_job(self, job: Job, pipeline=None, at_front=False, unique=False) -> Job:
        if not self.fair:
            return super()._enqueue_async_job(job, pipeline, at_front, unique)
        self._prepare_for_queue(job)
        owner = str((job.meta or {}).get("owner") or job.id)
        hset = _build_hset_args(job)
        keys = [
            job.key,
            self.order_key,
            ROUND_KEY,
            f"{PREFIX}:last:{owner}",
            f"{PREFIX}:fill:",
            WAKE_KEY,
            self.redis_queues_keys,
            self.key,
            OWNERS_KEY,
            f"{QUEUED_PREFIX}{owner}",
        ]
        args = [
            job.id,
            "1" if unique else "0",
            "1" if at_front else "0",
            job.ttl if job.ttl is not None else -1,
            MEMO_SECONDS,
            owner,
            *hset,
        ]
        added = _script(self.connection, _ENQUEUE)(keys=keys, args=args, client=pipeline)
        if pipeline is None and unique and not added:
            raise DuplicateJobError(f"Job {job.id} already exists")
        return job

    def push_job_id(self, job_id: str, pipeline=None, at_front: bool = False):
        """RQ's requeue paths that push a bare id (the job hash exists already)."""
        if not self.fair:
            return super().push_job_id(job_id, pipeline, at_front)
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        self._enqueue_async_job(job, pipeline=pipeline, at_front=at_front)

    # What the dashboard and RQ's helpers read -----------------------------------------

    @property
    def count(self) -> int:
        if not self.fair:
            return super().count
        return self.connection.zcard(self.order_key)

    def get_job_ids(self, offset: int = 0, length: int = -1) -> list[str]:
        if not self.fair:
            return super().get_job_ids(offset, length)
        end = -1 if length < 0 else offset + length - 1
        return [as_text(job_id) for job_id in self.connection.zrange(self.order_key, offset, end)]

    def get_job_position(self, job_or_id) -> int | None:
        if not self.fair:
            return super().get_job_position(job_or_id)
        job_id = job_or_id.id if isinstance(job_or_id, Job) else job_or_id
        return self.connection.zrank(self.order_key, job_id)

    def remove(self, job_or_id, pipeline=None):
        if not self.fair:
            return super().remove(job_or_id, pipeline)
        job_id = job_or_id.id if isinstance(job_or_id, Job) else job_or_id
        return _script(self.connection, _REMOVE)(
            keys=[self.order_key, OWNERS_KEY], args=[job_id, f"{PREFIX}:"], client=pipeline
        )

    def empty(self):
        if not self.fair:
            return super().empty()
        job_ids = self.get_job_ids()
        remove = _script(self.connection, _REMOVE)
        with self.connection.pipeline() as pipe:
            for job_id in job_ids:
                # Out of the order as a cancel takes it (its creator's count goes down too).
                remove(keys=[self.order_key, OWNERS_KEY], args=[job_id, f"{PREFIX}:"], client=pipe)
                pipe.delete(self.job_class.key_for(job_id))
                pipe.delete(self.job_class.dependents_key_for(job_id))
            pipe.execute()
        return len(job_ids)

    def delete(self, delete_jobs: bool = True):
        if not self.fair:
            return super().delete(delete_jobs)
        if delete_jobs:
            self.empty()
        super().delete(delete_jobs=False)

    def compact(self):
        """Nothing to compact in the fair order: a removed job leaves it at once."""
        if not self.fair:
            super().compact()

    def pop_job_id(self) -> str | None:
        if not self.fair:
            return super().pop_job_id()
        popped = self.lpop([self.key], None, connection=self.connection)
        return as_text(popped[1]) if popped else None

    # Dequeue ---------------------------------------------------------------------------

    @classmethod
    def lpop(cls, queue_keys: Sequence[str], timeout: int | None, connection: Redis | None = None):
        """The next job of the given queues: the fair order's head of the fair ones, else
        RQ's list of the plain ones. Blocks up to `timeout` seconds (None: not at all),
        waking when a fair job is enqueued or a plain one is pushed (and once a second
        regardless). A worker of plain queues only is RQ's own."""
        assert connection is not None
        keys = [as_text(key) for key in queue_keys]
        fair = set(settings.PHOENIX_FAIR_QUEUES)
        if not any(_name_of(key) in fair for key in keys):
            return super().lpop(queue_keys, timeout, connection=connection)
        orders = [order_key(_name_of(key)) for key in keys]
        plain = [key for key in keys if _name_of(key) not in fair]
        pop = _script(connection, _POP)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            result = pop(
                keys=[*orders, ROUND_KEY, CLAIMED_KEY, *keys, OWNERS_KEY, CLAIMED_OWNERS_KEY],
                args=[len(keys), f"{PREFIX}:", Job.redis_job_namespace_prefix],
            )
            if result:
                return as_text(result[0]), as_text(result[1])
            if deadline is None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise DequeueTimeout(timeout, queue_keys)
            woken = connection.blpop([WAKE_KEY, *plain], min(left, WAIT_SLICE_SECONDS))
            if woken and as_text(woken[0]) != WAKE_KEY:
                return as_text(woken[0]), as_text(woken[1])  # a plain queue's job

    @classmethod
    def lmove(cls, connection: Redis, queue_key: str, timeout: int | None):
        if _name_of(queue_key) not in settings.PHOENIX_FAIR_QUEUES:
            # A worker of one plain queue keeps RQ's intermediate list.
            return super().lmove(connection, queue_key, timeout)
        return cls.lpop([queue_key], timeout, connection=connection)


class FairWorkerMixin:
    """Takes a started job out of the claimed set (see the module's docstring)."""

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False):
        super().prepare_job_execution(job, remove_from_intermediate_queue)
        pipe = self.connection.pipeline()
        pipe.zrem(CLAIMED_KEY, job.id)
        pipe.hdel(CLAIMED_OWNERS_KEY, job.id)
        pipe.execute()


# Place in line ----------------------------------------------------------------------------


def _shared_queues() -> list[str]:
    # Which fair queues share workers, for the place in line: the Procfile's generation
    # worker serves them all, so an image and a video wait in one order.
    return list(settings.PHOENIX_FAIR_QUEUES)


def ahead_of(connection: Redis, jobs: Sequence[tuple[str, str]]):
    """For (queue name, job id) pairs: each job's count of jobs that start before it per
    queue ({queue: n}, {} when it is starting now, None when it is not queued), and the
    number of jobs running now per queue. One round trip, O(log n) per job."""
    names = _shared_queues()
    keys = [
        *(order_key(name) for name in names),
        *(f"rq:wip:{name}" for name in names),
        CLAIMED_KEY,
    ]
    args: list = [len(names)]
    for queue_name, job_id in jobs:
        args += [names.index(queue_name) + 1, job_id]
    *found, running = _script(connection, _AHEAD)(keys=keys, args=args)
    places = []
    for counts in found:
        if counts == [-1]:
            places.append(None)
        elif counts == [-2]:
            places.append({})
        else:
            places.append(dict(zip(names, counts, strict=True)))
    return places, dict(zip(names, running, strict=True))


@dataclass(frozen=True)
class PollRead:
    """What a card poll reads in its one round trip."""

    version: int  # 0 when unknown
    ahead: int | None  # jobs that start before it; None when it is not queued
    place: dict[str, int] | None  # as ahead_of gives it: per queue, {} when starting now
    running: dict[str, int]  # jobs running now per queue


def poll_read(connection: Redis, *, version_key: str, queue_name: str, job_id: str) -> PollRead:
    """A card poll's one round trip: the card's version and its job's place in line (what
    its wait estimate needs too, so the render reads the queue no second time)."""
    names = _shared_queues()
    keys = [
        version_key,
        *(order_key(name) for name in names),
        *(f"rq:wip:{name}" for name in names),
        CLAIMED_KEY,
    ]
    version, state, *rest = _script(connection, _POLL)(
        keys=keys, args=[names.index(queue_name) + 1, job_id]
    )
    running = dict(zip(names, rest[-len(names) :], strict=True))
    if state == -1:
        return PollRead(int(version), None, None, running)
    if state == -2:
        return PollRead(int(version), 0, {}, running)
    place = dict(zip(names, rest[: len(names)], strict=True))
    return PollRead(int(version), sum(place.values()), place, running)


def forget(connection: Redis, queue_name: str, job_id: str) -> None:
    """A canceled creation's job leaves the order at once, and is RQ's `canceled` (the
    dashboard's canceled registry) rather than a queued job that nothing will run."""
    if _script(connection, _REMOVE)(
        keys=[order_key(queue_name), OWNERS_KEY], args=[job_id, f"{PREFIX}:"]
    ):
        try:
            Job.fetch(job_id, connection=connection).cancel()
        except (NoSuchJobError, InvalidJobOperation):
            pass


def requeue_abandoned(connection: Redis, *, now: float | None = None) -> int:
    """Put back at the head of the order every job popped more than CLAIM_GRACE_SECONDS
    ago that never started (its worker died mid-dequeue). Run by the recovery pass."""
    if now is None:
        seconds, micros = connection.time()  # the clock the claims were timed by
        now = seconds + micros / 1e6
    cutoff = int((now - CLAIM_GRACE_SECONDS) * 1000)
    stale = [as_text(job_id) for job_id in connection.zrangebyscore(CLAIMED_KEY, "-inf", cutoff)]
    if not stale:
        return 0
    origins = connection.pipeline()
    for job_id in stale:
        origins.hget(Job.key_for(job_id), "origin")
    keys = [CLAIMED_KEY, ROUND_KEY, CLAIMED_OWNERS_KEY, OWNERS_KEY]
    for job_id, origin in zip(stale, origins.execute(), strict=True):
        keys += [order_key(as_text(origin or b"images")), Job.key_for(job_id)]
    return int(_script(connection, _REQUEUE)(keys=keys, args=[cutoff, f"{PREFIX}:", *stale]))


def safely(call, *args, **kwargs):
    """Best effort for what only makes a place in line more exact."""
    try:
        return call(*args, **kwargs)
    except RedisError:
        return None
