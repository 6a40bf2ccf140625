"""The fixed-window counter on the real cache of the test command (Redis), and on process memory."""

import time

from django.core.cache import caches

from procuration import ratelimit
from procuration.cache import FailoverRedisCache
from tests.services import redis_env


def test_counts_every_scope_and_refuses_past_the_limit():
    scopes = [("t-user", "1"), ("t-ip", "10.0.0.1")]
    assert [ratelimit.hit_all(scopes, 3, 60) for _ in range(4)] == [True, True, True, False]
    # Both were counted each time: a second user from the same address is already over.
    assert ratelimit.hit_all([("t-user", "2"), ("t-ip", "10.0.0.1")], 3, 60) is False
    assert ratelimit.counts([("t-user", "2")], 60) == [2]


def test_the_window_opens_at_the_first_attempt_and_is_not_extended():
    assert ratelimit.hit("t-window", "x", 2, 2) is True
    time.sleep(1.2)
    assert ratelimit.hit("t-window", "x", 2, 2) is True  # must not push the expiry back
    time.sleep(1.0)
    # 2.2 s after the first attempt: a new window (an extended one would refuse this 3rd attempt).
    assert ratelimit.hit("t-window", "x", 2, 2) is True
    assert ratelimit.hit("t-window", "x", 2, 2) is True
    assert ratelimit.hit("t-window", "x", 2, 2) is False


def test_on_redis_the_counters_live_in_redis_with_their_expiry():
    redis_env()  # skips outside scripts/test.sh
    cache = caches["default"]
    assert isinstance(cache, FailoverRedisCache)
    assert ratelimit.counts([("t-redis", "a"), ("t-redis", "b")], 600) == [1, 1]
    assert ratelimit.counts([("t-redis", "a")], 600) == [2]
    client = cache._cache.get_client()
    key = cache.make_and_validate_key("rl:t-redis:a")
    assert int(client.get(key)) == 2
    assert 590 <= client.ttl(key) <= 600
    assert cache.fallback.get("rl:t-redis:a") is None  # nothing went to process memory


def _calls(client, command: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def test_on_redis_both_counters_are_one_command_and_survive_a_script_flush():
    """Issue 16: one EVALSHA (procuration.cache.INCR_WINDOW) instead of MULTI, 2 × (INCR, EXPIRE NX), EXEC."""
    redis_env()  # skips outside scripts/test.sh
    cache = caches["default"]
    client = cache._cache.get_client(write=True)
    ratelimit.counts([("t-one", "warm")], 600)  # the script is loaded
    before = {c: _calls(client, c) for c in ("evalsha", "multi", "incr", "expire")}
    assert ratelimit.counts([("t-one", "user"), ("t-one", "ip")], 600) == [1, 1]
    after = {c: _calls(client, c) for c in ("evalsha", "multi", "incr", "expire")}
    assert after["evalsha"] - before["evalsha"] == 1 and after["multi"] == before["multi"]
    assert (after["incr"] - before["incr"], after["expire"] - before["expire"]) == (2, 2)  # run by the script
    client.script_flush()  # a restarted Redis forgets its scripts: redis-py loads it again
    assert ratelimit.counts([("t-one", "user"), ("t-one", "ip")], 600) == [2, 2]
    assert 590 <= client.ttl(cache.make_and_validate_key("rl:t-one:ip")) <= 600
    assert cache.fallback.get("rl:t-one:ip") is None
