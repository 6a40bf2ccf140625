#!/usr/bin/env bash
# Command 1: run the app on the embedded default (SQLite, in-process tasks, local mailbox)
# with demo data on http://127.0.0.1:8000, plus a local OpenID Connect provider playing
# FranceConnect and France Identité on http://127.0.0.1:9400.
source "$(dirname "$0")/lib.sh"

# The development variables of the embedded default (settings are safe by default: DEBUG off).
export DEBUG=true

ensure_apt libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
ensure_venv

unset DATABASE_URL CELERY_BROKER_URL || true
export OIDC_FRANCEIDENTITE_URL="${OIDC_FRANCEIDENTITE_URL:-http://127.0.0.1:9400}"  # the local mock plays France Identité too
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo

log "fournisseur d'identité local (FranceConnect / France Identité de démonstration) sur http://127.0.0.1:9400"
.venv/bin/python -m procuration.oidc_mock --port 9400 > var/oidc-mock.log 2>&1 &
OIDC_PID=$!
trap 'kill $OIDC_PID 2>/dev/null || true' EXIT

log "application sur http://127.0.0.1:8000 (courriels : http://127.0.0.1:8000/dev/courriels/)"
.venv/bin/python manage.py runserver 127.0.0.1:8000
