#!/usr/bin/env bash
# Form pages, old (DSFR templates) and new (Python) renderer, against the bare view: ratios only.
# Starts PostgreSQL and Redis on loopback in a scratch directory (scripts/lib.sh), production
# settings (DEBUG off: cached template loader), migrates, runs bench/form_render.py, stops all.
#   bash bench/form_render.sh                      # 5 rounds × 20 requests per page
#   bash bench/form_render.sh --profile validité   # cProfile of one page, both renderers
source "$(dirname "$0")/../scripts/lib.sh"

ensure_apt postgresql redis-server
ensure_venv
start_test_services  # PostgreSQL + Redis, stopped on exit; exports DATABASE_URL, REDIS_CACHE_URL…

runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres procuration
export DEBUG=false SECRET_KEY="bench-$(head -c 24 /dev/urandom | base64)" ALLOWED_HOSTS=testserver
export SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_HSTS_SECONDS=0 LOG_LEVEL=WARNING
# Static files as in production (manifest storage): collected once, shared with bench/run_load.sh.
export STATIC_ROOT="$(cd "$(dirname "$0")/.." && pwd)/var/bench-static"
export POLICE_LOOKUP_LIMIT=1000000000 POLICE_LOOKUP_IP_LIMIT=1000000000
# As in production (procuration/settings.py, bench/run_load.sh), not as in the tests: persistent database
# connections (scripts/lib.sh sets 0 for the tests: a new connection per request), and tasks published
# to the Redis broker after commit, not run in this process (no worker here: they wait in Redis).
export DB_CONN_MAX_AGE=60 CELERY_TASK_ALWAYS_EAGER=false
log "migrate"
.venv/bin/python manage.py migrate -v 0
if [ ! -f "$STATIC_ROOT/staticfiles.json" ]; then
  log "collectstatic (une fois, dans $STATIC_ROOT)"
  .venv/bin/python manage.py collectstatic --noinput -v 0
fi
.venv/bin/python -W ignore::DeprecationWarning bench/form_render.py "$@"
