"""A Redis cache that keeps the site working when Redis is unreachable.

Rate limits (ours and allauth's), allauth's TOTP replay protection and the counters of the
portals live in the cache. If Redis is down or restarting, every operation falls back to this
process's memory and a warning is logged; Redis is retried after RETRY_AFTER seconds. Limits
then hold per web process instead of globally, until Redis answers again (docs/faults.md).
"""

import logging
import time

import redis
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_AFTER = 5.0
_OPERATIONS = (
    "add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many", "clear",
)


class FailoverRedisCache(RedisCache):
    def __init__(self, server, params):
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self.fallback = LocMemCache(f"failover-{server}", {"OPTIONS": {"MAX_ENTRIES": 20000}})
        self._down_until = 0.0

    def _call(self, name, *args, **kwargs):
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args, **kwargs)
            except UNREACHABLE as exc:
                self._down_until = time.monotonic() + RETRY_AFTER
                logger.warning("Cache Redis unreachable (%s): using this process's memory for %ss", exc, RETRY_AFTER)
        return getattr(self.fallback, name)(*args, **kwargs)


def _operation(name):
    def method(self, *args, **kwargs):
        return self._call(name, *args, **kwargs)

    method.__name__ = name
    return method


for _name in _OPERATIONS:
    setattr(FailoverRedisCache, _name, _operation(_name))
