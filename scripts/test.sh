#!/usr/bin/env bash
# Command 2: the whole test suite against the real components. Installs what is missing,
# starts PostgreSQL and Redis on loopback in a scratch directory, runs pytest (a real Celery
# worker is started in-process by the tests that need one), stops everything after.
# Extra arguments go to pytest, e.g. scripts/test.sh tests/procuration -x
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/axe.sh"
source "$(dirname "$0")/vnu.sh"

ensure_apt postgresql redis-server chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 \
  libharfbuzz-subset0 fonts-dejavu-core default-jre-headless nginx  # nginx: tests/ops/test_nodes.py
ensure_venv
ensure_axe  # axe-core for tests/a11y (AXE_JS)
ensure_vnu  # the Nu HTML Checker for tests/a11y/test_html_valid.py (VNU_JAR)

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
SCRATCH="$(mktemp -d /tmp/procuration-test.XXXXXX)"
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/pg" "$SCRATCH/sock" "$SCRATCH/var"
chown postgres:postgres "$SCRATCH/pg" "$SCRATCH/sock"
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"

cleanup() {
  set +e
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$SCRATCH/redis.pid" ] && kill "$(cat "$SCRATCH/redis.pid")" 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

log "PostgreSQL sur 127.0.0.1:$PG_PORT, Redis sur 127.0.0.1:$REDIS_PORT ($SCRATCH)"
runuser -u postgres -- "$PG_BIN/initdb" -D "$SCRATCH/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -l "$SCRATCH/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SCRATCH/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
  --dir "$SCRATCH" --pidfile "$SCRATCH/redis.pid" --logfile "$SCRATCH/redis.log"

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/procuration"
export PGHOST=127.0.0.1 PGPORT="$PG_PORT" PGUSER=postgres PG_BIN PG_DATA="$SCRATCH/pg"
export REDIS_PORT TEST_SCRATCH_DIR="$SCRATCH"  # tests/procuration/test_outbox.py stops and restarts Redis
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export REDIS_CACHE_URL="redis://127.0.0.1:$REDIS_PORT/1"
export CELERY_TASK_ALWAYS_EAGER=true
export VAR_DIR="$SCRATCH/var"
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-$SCRATCH/var}"
export DJANGO_ALLOW_ASYNC_UNSAFE=true
export DB_CONN_MAX_AGE=0
export PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher
# France Identité is configured only when its URL is set; the tests start its mock (tests/mandant/conftest.py).
export OIDC_FRANCEIDENTITE_URL=http://127.0.0.1:9401
# The tests assume the development defaults (no HTTPS redirect, static files from the finders);
# settings are safe by default (DEBUG off), so say it. pytest-django still runs views with DEBUG off.
export DEBUG=true

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
exit $status
