"""Riding through a Redis Sentinel failover.

Between the primary's death and the sentinels' promotion of a replica (seconds), every
command fails. redis-py's Sentinel clients retry nothing by default, and one failed
command ends an RQ worker, its scheduler or rqcron. With this retry, a command whose
connection fails is sent again, each time to the primary the sentinels name then, until
it succeeds or the time is up.

Only connection errors are retried, not timeouts: a command that timed out reached a
Redis that is alive but slow, and has most likely run (an INCR sent again would count
twice). A connection cut by a dying primary may still repeat a command the primary ran
just before it died: the callers tolerate that (a creation's job is claimed by a guarded
update, a throttle counter may count one try more).
"""

import time

from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError
from redis.retry import Retry


class RetryFor(Retry):
    """Retry connection errors for up to `seconds`, however many tries that takes (a dead
    host costs a connect timeout a try, a dead process nothing)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            ExponentialBackoff(cap=0.5, base=0.05), retries=-1, supported_errors=(ConnectionError,)
        )
        self.seconds = seconds

    def __eq__(self, other) -> bool:
        return isinstance(other, RetryFor) and other.seconds == self.seconds

    def __hash__(self) -> int:
        return hash((RetryFor, self.seconds))

    def __repr__(self) -> str:
        return f"RetryFor({self.seconds:g})"

    def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        deadline = time.monotonic() + self.seconds
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                if with_failure_count:
                    fail(error, failures)
                else:
                    fail(error)
                delay = self._backoff.compute(failures)
                if time.monotonic() + delay > deadline:
                    raise error
                time.sleep(delay)


def no_retry() -> Retry:
    """One try: for the sentinels themselves (redis-py gives every client a few retries,
    and a client asking a dead sentinel should move on to the next one at once) and for
    the readiness probe (which must answer now, not after a failover)."""
    return Retry(NoBackoff(), 0)
