"""A fixed-window counter in the cache (Redis in production), shared by every web process.

The window opens at the first attempt and closes `window` seconds later (the key's expiry);
incrementing keeps the expiry, so at most `limit` attempts pass per window. When Redis is
unreachable the cache itself falls back to process memory (procuration/cache.py).
"""

from django.core.cache import cache


def hit(scope: str, ident: str, limit: int, window: int) -> bool:
    """Count one attempt for (scope, ident); True while the count stays within the limit."""
    key = f"rl:{scope}:{ident}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
