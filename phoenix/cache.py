"""The cache on a Redis of its own (REDIS_CACHE_URL), failing open.

The cache holds only what can be recomputed, on a Redis that may evict and has no
replica: when that Redis is down a read is a miss and a write is dropped (and logged), so
a page never fails because its cache did.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _fail_open(method, fallback):
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError:
            log.warning("Cache unavailable (Redis); %s skipped", method.__name__, exc_info=True)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

    call.__name__ = method.__name__
    return call


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis for each cache call, which cost ~50 µs of
    CPU (it copies its table of response callbacks) on every page that reads its session
    (make bench, issue 19). A redis.Redis is safe to share between threads (its pool hands
    each command a connection): one per connection pool does."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    get = _fail_open(RedisCache.get, lambda key, default=None, version=None: default)
    get_many = _fail_open(RedisCache.get_many, {})
    has_key = _fail_open(RedisCache.has_key, False)
    set = _fail_open(RedisCache.set, None)
    set_many = _fail_open(RedisCache.set_many, [])
    add = _fail_open(RedisCache.add, False)
    touch = _fail_open(RedisCache.touch, False)
    delete = _fail_open(RedisCache.delete, False)
    delete_many = _fail_open(RedisCache.delete_many, None)
    clear = _fail_open(RedisCache.clear, False)
