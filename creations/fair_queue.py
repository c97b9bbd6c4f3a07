"""Round-robin by creator inside an RQ queue.

RQ's queue is a Redis list that workers pop from the head. A job enqueued as usual goes to
the tail, so one creator's burst of 20 videos would make everyone else wait behind all 20.
Right after the enqueue, `place` moves the job to its fair place, in one Lua script (atomic
against other placements and against workers popping):

- a queued job's *round* is how many jobs of the same creator are ahead of it (0 for a
  creator's first queued job, 1 for the second, ...);
- the new job (its creator having r jobs queued already) goes just before the first job
  whose round is greater than r and that is behind the creator's own queued jobs (a
  creator's jobs keep their order), or stays at the tail if there is none.

So a creator's next job waits behind at most one job of each other waiting creator (r = 0),
and their k-th behind at most k of each. Creator A with 20 queued and B queueing 1: B's job
goes second. The queue's owners are kept in a hash next to the list (pruned to the jobs
still queued whenever it grows past twice the queue). A job that a worker took meanwhile is
left alone; a job of unknown owner counts as its own creator. One placement reads the
whole queue (O(n) inside Redis, ~1 ms for a few thousand queued jobs).

Job ids stay the creation's (cancel, recovery and the dashboard find them as before).
"""

from redis.exceptions import RedisError
from rq import Queue

_PLACE = """
local queue, owners = KEYS[1], KEYS[2]
local job, owner = ARGV[1], ARGV[2]
redis.call('HSET', owners, job, owner)
local ids = redis.call('LRANGE', queue, 0, -1)
local known = {}
-- In slices: Lua's unpack has a limit of a few thousand values.
for first = 1, #ids, 1000 do
  local last = math.min(first + 999, #ids)
  local found = redis.call('HMGET', owners, unpack(ids, first, last))
  for i = first, last do known[ids[i]] = found[i - first + 1] end
end
-- Now and then, forget the owners of jobs no longer queued.
if redis.call('HLEN', owners) > 2 * #ids + 64 then
  redis.call('DEL', owners)
  for _, id in ipairs(ids) do
    if known[id] then redis.call('HSET', owners, id, known[id]) end
  end
end
local mine, last_mine = 0, 0
for i, id in ipairs(ids) do
  if id ~= job and known[id] == owner then
    mine = mine + 1
    last_mine = i
  end
end
-- Never ahead of the creator's own queued jobs: once workers have popped some, a
-- later round can sit before them.
local seen = {}
local pivot = nil
for i, id in ipairs(ids) do
  if id ~= job then
    local who = known[id] or id
    local round = seen[who] or 0
    seen[who] = round + 1
    if round > mine and i > last_mine then pivot = id break end
  end
end
if pivot == nil then return 0 end
if redis.call('LREM', queue, 1, job) == 0 then return 0 end
redis.call('LINSERT', queue, 'BEFORE', pivot, job)
return 1
"""


def owners_key(queue: Queue) -> str:
    return f"phoenix:queue-owners:{queue.name}"


def place(queue: Queue, job_id: str, owner: str) -> bool:
    """Move a just-enqueued job to its creator's fair place. True if it moved."""
    script = queue.connection.register_script(_PLACE)
    return bool(script(keys=[queue.key, owners_key(queue)], args=[job_id, owner]))


def place_or_leave(queue: Queue, job_id: str, owner: str) -> None:
    """Best effort: the job is queued already; at the tail it is merely less fair."""
    try:
        place(queue, job_id, owner)
    except RedisError:
        pass


# provisional: the lead's fair queue replaces this
def version_and_ahead(
    connection, *, version_key: str, queue_name: str, job_id: str
) -> tuple[int, int | None]:
    """A pending card's fingerprint in one round trip: its version (0 if missing) and how
    many queued jobs start before this job (None if not queued; not known here yet)."""
    pipe = connection.pipeline(transaction=False)
    pipe.get(version_key)
    (version,) = pipe.execute()
    return int(version or 0), None
