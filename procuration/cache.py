"""A Redis cache that keeps the site working when Redis is unreachable.

Sessions (cached_db: the database holds them, Redis a copy), rate limits (ours and allauth's),
allauth's TOTP replay protection and the counters of the portals live in the cache. If Redis is
down or restarting, every operation falls back to this process's memory and a warning is logged;
Redis is retried after RETRY_AFTER seconds. Limits then hold per web process instead of globally,
until Redis answers again (docs/faults.md).

A value written or deleted while Redis was unreachable would leave Redis holding an older copy
(a session logged out during the outage, say). The process notes those keys and deletes them
from Redis on its first successful call, before anything else, so the next read goes back to the
database for a session.
"""

import logging
import threading
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_AFTER = 5.0
MAX_STALE_KEYS = 20000  # beyond that, the whole cache database is flushed when Redis is back
_READS = ("get", "get_many", "has_key")
_WRITES = ("add", "set", "touch", "delete", "incr")
_MANY_WRITES = ("set_many", "delete_many")
# The fixed-window counters (FailoverRedisCache.incr_window): each key incremented, its window opened
# on the first increment (EXPIRE NX: a running window keeps its expiry; Redis 7).
INCR_WINDOW = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[1], 'NX')
end
return counts
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new redis.Redis object for every cache operation; with redis-py 8 that
    object's constructor (its table of response callbacks) cost more CPU than the round trip
    (py-spy during bench/run_load.sh: 7 % of a counter lookup). A client is thread-safe (it takes a
    connection from the pool per command): keep one per pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self.fallback = LocMemCache(f"failover-{server}", {"OPTIONS": {"MAX_ENTRIES": 20000}})
        self._down_until = 0.0
        self._stale: set[str] = set()  # keys changed in memory while Redis was unreachable
        self._flush_when_back = False
        self._stale_lock = threading.Lock()  # gunicorn threads share this object
        self._scripts = {}  # id(redis client) -> its registered INCR_WINDOW

    def _note_stale(self, keys):
        """Remember keys changed in memory only; None (a clear) or too many: flush when back."""
        with self._stale_lock:
            if keys is None or len(self._stale) >= MAX_STALE_KEYS:
                self._flush_when_back = True
            else:
                self._stale.update(keys)

    def _forget_stale(self):
        """Redis answers again: drop its copies of what changed meanwhile (or flush it all)."""
        with self._stale_lock:
            if self._flush_when_back:
                super().clear()
            elif self._stale:
                super().delete_many(list(self._stale))
            self._stale.clear()
            self._flush_when_back = False

    def _failover(self, on_redis, on_memory, written):
        """on_redis() unless Redis is known down or fails now; else on_memory(), noting the
        `written` keys (None: all of them) as stale in Redis."""
        if time.monotonic() >= self._down_until:
            try:
                if self._stale or self._flush_when_back:
                    self._forget_stale()
                return on_redis()
            except UNREACHABLE as exc:
                self._down_until = time.monotonic() + RETRY_AFTER
                logger.warning("Cache Redis unreachable (%s): using this process's memory for %ss", exc, RETRY_AFTER)
        if written is None or written:
            self._note_stale(written)
        return on_memory()

    def _call(self, name, *args, **kwargs):
        if name in _READS:
            written = []
        elif name in _WRITES:
            written = [args[0] if args else kwargs["key"]]
        elif name in _MANY_WRITES:
            written = list(args[0] if args else kwargs.get("data", kwargs.get("keys")))
        else:  # clear
            written = None
        return self._failover(
            lambda: getattr(super(FailoverRedisCache, self), name)(*args, **kwargs),
            lambda: getattr(self.fallback, name)(*args, **kwargs),
            written,
        )

    def incr_window(self, keys, timeout):
        """Increment each key, opening a `timeout`-second window on its first increment, in one
        round trip and one command (INCR_WINDOW: INCR, then EXPIRE NX which leaves a running window
        alone, atomically like the MULTI it replaces, with less to build and parse per call: issue 16).
        Returns the counts. Falls back to process memory like every other operation."""

        def on_redis():
            client = self._cache.get_client(write=True)
            script = self._scripts.get(id(client))
            if script is None:  # EVALSHA, loaded again by redis-py if the server lost it (NOSCRIPT)
                script = self._scripts[id(client)] = client.register_script(INCR_WINDOW)
            return [int(count) for count in script(keys=[self.make_and_validate_key(key) for key in keys],
                                                   args=[timeout])]

        return self._failover(
            on_redis, lambda: [fixed_window_incr(self.fallback, key, timeout) for key in keys], list(keys)
        )


def fixed_window_incr(backend, key: str, timeout: int) -> int:
    """On any cache backend: add opens the window, incr keeps its expiry. The count after this one."""
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr
        backend.set(key, 1, timeout=timeout)
        return 1


def _operation(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in (*_READS, *_WRITES, *_MANY_WRITES, "clear"):
    setattr(FailoverRedisCache, _name, _operation(_name))
