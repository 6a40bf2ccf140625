"""Only one Celery beat sends the periodic tasks, even when a second one is started by mistake
or during a redeploy (docs/ops/operations.md).

The beat's scheduler holds a lock in Redis (the broker's, or BEAT_LOCK_URL): a key holding a
random token of this beat, set with NX and a time to live of BEAT_LOCK_TTL_SECONDS, renewed at
every tick (a tick comes at least every beat_max_loop_interval, which must stay well below the
time to live). A beat that does not hold the lock sends nothing and tries again a few seconds
later; if the holder dies, the key expires and the other takes over. With Redis unreachable no
beat sends anything (it could not publish either).
"""

import logging
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_KEY = "procuration:beat:lock"
# Take the lock if free, or renew it if it is ours: 1 when held by this token afterwards.
_ACQUIRE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLock:
    def __init__(self, url: str, ttl_seconds: float, key: str = LOCK_KEY):
        self.key = key
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = uuid.uuid4().hex
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.held = None  # unknown until the first attempt, which is logged either way

    def acquire(self) -> bool:
        """Take or renew the lock; False when another beat holds it or Redis does not answer."""
        try:
            held = bool(self.client.eval(_ACQUIRE, 1, self.key, self.token, self.ttl_ms))
        except (redis.exceptions.RedisError, OSError) as exc:
            logger.warning("Beat lock: Redis unreachable (%s), sending no periodic task", type(exc).__name__)
            held = False
        if held != self.held:
            logger.info("Beat lock %s", "taken: this beat sends the periodic tasks" if held else "held by another beat")
        self.held = held
        return held

    def release(self) -> None:
        try:
            self.client.eval(_RELEASE, 1, self.key, self.token)
        except (redis.exceptions.RedisError, OSError):
            pass  # it expires
        self.held = False


class SingleBeatScheduler(PersistentScheduler):
    """celery beat's default scheduler, ticking only while it holds the beat lock."""

    def __init__(self, *args, **kwargs):
        url = settings.BEAT_LOCK_URL
        self.lock = BeatLock(url, settings.BEAT_LOCK_TTL_SECONDS) if url else None
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        if self.lock is not None and not self.lock.acquire():
            return min(self.max_interval, settings.BEAT_LOCK_RETRY_SECONDS)
        return super().tick(*args, **kwargs)

    def close(self):
        super().close()
        if self.lock is not None:
            self.lock.release()
