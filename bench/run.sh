#!/usr/bin/env bash
# Benchmark of the procuration domain (references) on a throw-away PostgreSQL.
# Starts PostgreSQL on a free loopback port in a scratch directory (like scripts/test.sh),
# migrates, runs bench/bench_domain.py, stops PostgreSQL. Not part of the pytest run.
#   bash bench/run.sh                 # 1,000,000 procurations
#   BENCH_N=100000 bash bench/run.sh  # smaller
source "$(dirname "$0")/../scripts/lib.sh"

ensure_apt postgresql
ensure_venv

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
SCRATCH="$(mktemp -d /tmp/procuration-bench.XXXXXX)"
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/pg" "$SCRATCH/sock" "$SCRATCH/var"
chown postgres:postgres "$SCRATCH/pg" "$SCRATCH/sock"
PG_PORT="$(free_port)"

cleanup() {
  set +e
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -m fast stop >/dev/null 2>&1
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

log "PostgreSQL sur 127.0.0.1:$PG_PORT ($SCRATCH)"
runuser -u postgres -- "$PG_BIN/initdb" -D "$SCRATCH/pg" -A trust -U postgres >/dev/null
# Durable settings as in production (fsync on): the numbers should not flatter us.
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -l "$SCRATCH/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SCRATCH/sock -c shared_buffers=256MB -c max_wal_size=2GB" \
  start >/dev/null
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres procuration

export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/procuration"
export VAR_DIR="$SCRATCH/var" DB_CONN_MAX_AGE=0 CELERY_TASK_ALWAYS_EAGER=true
export DEBUG=true  # the settings are safe by default (DEBUG off); the references were measured with it on
log "migrate"
.venv/bin/python manage.py migrate -v 0
.venv/bin/python bench/bench_domain.py "$@"
