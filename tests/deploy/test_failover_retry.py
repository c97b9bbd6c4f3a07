"""The failover retry sends a command again only when its connection failed, not when
Redis was merely slow to answer (a slow Redis has most likely run it)."""

import threading

import pytest
from redis import Redis
from redis.exceptions import TimeoutError

from phoenix.redis_failover import RetryFor, no_retry

from .engines import RedisServer, answers, wait_for


def test_a_command_that_timed_out_is_not_sent_again(tmp_path):
    server = RedisServer(tmp_path, "slow", "--enable-debug-command", "yes")
    try:
        server.start()
        client = Redis(port=server.port, socket_timeout=0.3, retry=RetryFor(5))
        client.ping()
        # Redis busy for two seconds: the INCR waits in its socket, times out on the
        # client's side, and runs on Redis's once it is free.
        busy = Redis(port=server.port, retry=no_retry())  # no timeout: it waits the sleep out
        sleeper = threading.Thread(target=lambda: busy.execute_command("DEBUG", "SLEEP", "2"))
        sleeper.start()
        probe = Redis(port=server.port, socket_timeout=0.2, retry=no_retry())
        wait_for(lambda: not answers(probe.ping), timeout=5, what="Redis to be busy")
        with pytest.raises(TimeoutError):
            client.incr("tries")
        sleeper.join(timeout=10)

        assert int(server.client().get("tries")) == 1  # counted once, not once per retry
    finally:
        server.kill()


def test_a_command_whose_connection_failed_is_sent_again_once_redis_is_back(tmp_path):
    server = RedisServer(tmp_path, "restarting")
    try:
        server.start()
        client = Redis(port=server.port, socket_timeout=1, retry=RetryFor(10))
        client.ping()
        server.kill()
        server.start()  # same port: the pooled connection is dead, a new one works

        assert client.incr("tries") == 1
    finally:
        server.kill()
