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

# No autovacuum on the tests' database: an ANALYZE of rows that a test then rolls back or flushes
# leaves statistics of a nearly empty table, and the planner of every later test trusted them (a
# join of the mairie queue by `id = ANY(…)` ran for minutes in a full run, docs/testing.md).
# Never-analysed tables are planned from their size on disk instead.
export TEST_PG_OPTIONS="${TEST_PG_OPTIONS:--c autovacuum=off}"
start_test_services  # PostgreSQL and Redis in a scratch directory, stopped on exit (lib.sh)

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
exit $status
