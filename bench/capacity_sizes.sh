#!/usr/bin/env bash
# Bytes per established procuration (PostgreSQL) and per session / queued task (Redis), on a
# throw-away PostgreSQL and Redis (scripts/lib.sh start_test_services). Not part of the pytest run.
#   bash bench/capacity_sizes.sh                 # 300 procurations, sessions, tasks
#   CAPACITY_K=1000 bash bench/capacity_sizes.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$(dirname "$0")/.."

ensure_apt postgresql redis-server
ensure_venv
start_test_services
export CELERY_TASK_ALWAYS_EAGER=true  # outbox e-mails are sent in-process, as the worker would
export EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres procuration 2>/dev/null || true
log "migrate"
.venv/bin/python manage.py migrate -v 0
.venv/bin/python bench/capacity_sizes.py
