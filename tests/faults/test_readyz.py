"""/readyz when Redis (the cache and the broker) is really stopped."""

import pytest

from procuration import health
from tests.services import redis_env, redis_up, start_redis, stop_redis, wait_until


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_it_is_stopped(client, settings):
    port, scratch = redis_env()
    health.forget_migration_check()
    assert client.get("/readyz").status_code == 200
    stop_redis(port)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["failed"] == ["broker", "redis"]
        assert body["checks"]["postgresql"] == "ok"
        assert body["checks"]["migrations"] == "ok"
    finally:
        start_redis(port, scratch)
    assert wait_until(lambda: redis_up(port))
    # Back: the same process is ready again (its pooled connections reconnect).
    assert wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10)
