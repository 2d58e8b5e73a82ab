"""A fixed-window counter in the cache, for public endpoints that answer without a login."""

from django.core.cache import cache


def allow(scope: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one request of `key` in `scope`; False once more than `limit` arrived within the
    current window."""
    name = "ratelimit:%(scope)s:%(key)s" % {"scope": scope, "key": key}
    if cache.add(name, 1, window_seconds):
        return True
    try:
        count = cache.incr(name)
    except ValueError:  # the window expired between add and incr
        cache.add(name, 1, window_seconds)
        return True
    return count <= limit
