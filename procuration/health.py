"""Probes for the load balancer and the orchestrator (docs/ops/operations.md).

- /healthz: the process answers (no I/O at all).
- /readyz: PostgreSQL, the Redis cache and the Celery broker answer, and every migration is
  applied. 503 names the components that failed. Each check has a short timeout; the migration
  check reads the migration table only until it has once been true in this process.

Both are unauthenticated, answer JSON, and are logged at DEBUG only (procuration/observability.py).
"""

import threading

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

PROBE_PATHS = ("/healthz", "/readyz")
TIMEOUT = 1.0

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
_migrations_applied = False


def redis_client(url: str) -> redis.Redis:
    """One client (and its connection pool) per URL and process, with short timeouts."""
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.get(url) or redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT, health_check_interval=30
            )
            _clients[url] = client
    return client


def _redis_ok(url: str) -> bool:
    try:
        return bool(redis_client(url).ping())
    except (redis.exceptions.RedisError, OSError):
        return False


def _postgresql_ok() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any database error means not ready
        return False


def _migrations_ok() -> bool:
    global _migrations_applied
    if _migrations_applied:
        return True
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # noqa: BLE001
        return False
    _migrations_applied = not plan
    return _migrations_applied


def forget_migration_check() -> None:
    """Tests only: check the migration table again on the next probe."""
    global _migrations_applied
    _migrations_applied = False


def readiness() -> dict[str, bool]:
    """Component name -> reachable. Redis components are only checked when configured."""
    checks = {"postgresql": _postgresql_ok()}
    if checks["postgresql"]:  # otherwise unknown: the failure is PostgreSQL's
        checks["migrations"] = _migrations_ok()
    if settings.REDIS_CACHE_URL:
        checks["redis"] = _redis_ok(settings.REDIS_CACHE_URL)
    broker = settings.CELERY_BROKER_URL
    if broker and broker.startswith(("redis://", "rediss://", "unix://")):
        checks["broker"] = _redis_ok(broker)
    return checks


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    checks = readiness()
    failed = sorted(name for name, ok in checks.items() if not ok)
    body = {"status": "unavailable" if failed else "ok", "checks": {k: "ok" if v else "ko" for k, v in checks.items()}}
    if failed:
        body["failed"] = failed
    return JsonResponse(body, status=503 if failed else 200)
