"""A fixed-window counter in the cache (Redis in production), shared by every web process.

The window opens at the first attempt and closes `window` seconds later (the key's expiry);
incrementing keeps the expiry, so at most `limit` attempts pass per window. When Redis is
unreachable the cache itself falls back to process memory (procuration/cache.py).

Counters per address use procuration.network.client_ip (X-Forwarded-For only from TRUSTED_PROXIES).
"""

from django.core.cache import cache

from procuration.cache import fixed_window_incr


def _key(scope: str, ident: str) -> str:
    return f"rl:{scope}:{ident}"


def counts(scopes: list[tuple[str, str]], window: int) -> list[int]:
    """Count one attempt for each (scope, ident); the counts after this attempt.

    On Redis the counters are incremented in one round trip (procuration/cache.py incr_window)."""
    keys = [_key(scope, ident) for scope, ident in scopes]
    if hasattr(cache, "incr_window"):
        return cache.incr_window(keys, window)
    return [fixed_window_incr(cache, key, window) for key in keys]


def hit(scope: str, ident: str, limit: int, window: int) -> bool:
    """Count one attempt for (scope, ident); True while the count stays within the limit."""
    return hit_all([(scope, ident)], limit, window)


def hit_all(scopes: list[tuple[str, str]], limit: int, window: int) -> bool:
    """Count one attempt against every scope (all are counted); True while each stays within the limit."""
    return hit_each([(scope, ident, limit) for scope, ident in scopes], window)


def hit_each(limits: list[tuple[str, str, int]], window: int) -> bool:
    """Count one attempt for each (scope, ident, limit), each with its own limit (one per officer,
    a higher one per address); True while every count stays within its limit."""
    found = counts([(scope, ident) for scope, ident, _ in limits], window)
    return all(count <= limit for count, (_, _, limit) in zip(found, limits, strict=True))
