"""A counter in the cache (Redis in production), shared by every web process.

The window opens at the first attempt and closes `window` seconds later (the key's expiry);
incrementing keeps the expiry, so at most `limit` attempts pass per window.

If the shared cache cannot be reached (Redis down or restarting), the counter falls back to
this process's memory and a warning is logged: the counter keeps working (a Redis outage must
not close the police counter) and attempts are still limited, per process instead of globally,
until Redis answers again (docs/faults.md).
"""

import logging

import redis
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

# Used only while the shared cache is unreachable.
local_cache = LocMemCache("ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def _count(store, key: str, window: int) -> int:
    store.add(key, 0, timeout=window)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=window)
        return 1


def hit(scope: str, ident: str, limit: int, window: int) -> bool:
    """Count one attempt for (scope, ident); True while the count stays within the limit."""
    key = f"rl:{scope}:{ident}"
    try:
        count = _count(cache, key, window)
    except UNREACHABLE as exc:
        logger.warning("Rate-limit cache unreachable (%s); counting %s in this process only", exc, scope)
        count = _count(local_cache, key, window)
    return count <= limit
