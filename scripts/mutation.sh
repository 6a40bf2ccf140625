#!/usr/bin/env bash
# Mutation score of the domain's rules (not part of CI; see docs/testing.md).
#
#   scripts/mutation.sh                      # every module of the table below (hours on 2 cores)
#   scripts/mutation.sh expiry services      # some of them, by the names of the table
#   MUTATION_SURVIVORS=1 scripts/mutation.sh validity   # only the survivors of the last session, again
#
# For each module, cosmic-ray (pinned, installed in var/mutation-venv, outside the project's
# lock) changes one thing at a time (an operator, a comparison, a constant, a boolean...) and
# runs the tests that cover the module against the real PostgreSQL and Redis (started as in
# scripts/test.sh): a mutant the tests still pass "survives". Prints, per module, the score
# (killed / all) and the surviving mutants with their diff; the sessions and reports stay in
# var/mutation/. The work happens on a copy of the tree in the scratch directory: the working
# tree is never mutated, even if the run is interrupted. A line marked `# pragma: no mutate`
# is skipped (only for mutants shown equivalent in docs/testing.md).
source "$(dirname "$0")/lib.sh"

COSMIC_RAY_VERSION=8.7.0
# name | module | the tests that cover it (pytest arguments; -x: the first failure kills the mutant;
# test_migrations.py first for the models: it kills a mutant of a field's definition in seconds)
MODULES="
machine|procuration/models/procuration.py|tests/procuration/test_migrations.py tests/procuration/test_transitions.py tests/procuration/test_portee_label.py tests/procuration/test_law.py tests/procuration/test_boundaries.py tests/procuration/test_checks.py tests/procuration/test_retention.py tests/procuration/test_state_machine.py tests/procuration/test_resiliation.py tests/procuration/test_mandataire_notice.py tests/procuration/test_reference.py tests/mandant/test_mes_procurations.py tests/procuration/test_annulation.py tests/procuration/test_expiry_at_read_time.py tests/procuration/test_transition_statements.py tests/procuration/test_machine_details.py tests/procuration/test_machine_contracts.py
checks|procuration/checks.py|tests/procuration/test_checks.py tests/procuration/test_law.py tests/mairie/test_queue_queries.py
validity|procuration/validity.py|tests/procuration/test_boundaries.py tests/procuration/test_checks.py tests/procuration/test_etablissement.py tests/procuration/test_scrutin_scope.py
expiry|procuration/expiry.py|tests/procuration/test_boundaries.py tests/police/test_expiry_at_the_counter.py tests/procuration/test_retention.py tests/procuration/test_expiry_at_read_time.py
services|police/services.py|tests/police
mairie|mairie/views.py|tests/mairie
teledossier|listes/models.py|tests/procuration/test_migrations.py tests/listes
"
# Bitwise, shift, power and modulo replacements of arithmetic operators: a dozen variants of each
# `+` or `-` that any test killing `+`→`-` kills too; left out to keep a run in minutes per module.
EXCLUDED_OPERATORS='"core/ReplaceBinaryOperator_.*_(BitOr|BitAnd|BitXor|LShift|RShift|Pow|Mod|FloorDiv)$"'

ensure_apt postgresql redis-server poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
  fonts-dejavu-core
ensure_venv
CR=var/mutation-venv/bin
if ! "$CR/cosmic-ray" --version 2>/dev/null | grep -q "$COSMIC_RAY_VERSION"; then
  find_python
  log "installation de cosmic-ray $COSMIC_RAY_VERSION (var/mutation-venv)"
  rm -rf var/mutation-venv
  "$PYTHON" -m venv var/mutation-venv
  .venv/bin/uv pip install -q --python var/mutation-venv/bin/python "cosmic-ray==$COSMIC_RAY_VERSION"
fi
CR="$ROOT/$CR"

# No autovacuum on the tests' database: an ANALYZE of rows that a test then rolls back or flushes
# leaves statistics of a nearly empty table, and the planner of every later test trusted them (a
# join of the mairie queue by `id = ANY(…)` ran for minutes in a full run, docs/testing.md).
# Never-analysed tables are planned from their size on disk instead.
export TEST_PG_OPTIONS="${TEST_PG_OPTIONS:--c autovacuum=off}"
start_test_services
# A mutant's pytest stopped by its timeout leaves its query running in its server process (a
# mutant can make a query unbounded): the server checks every second that its client is still there.
"$PG_BIN/psql" -qAt -d postgres -c "ALTER SYSTEM SET client_connection_check_interval = '1s'" \
  -c "SELECT pg_reload_conf()" >/dev/null

# The copy that gets mutated: tracked and new files, not what .gitignore leaves out.
WORK="$SCRATCH/tree"
mkdir -p "$WORK" "$ROOT/var/mutation"
git ls-files -z -co --exclude-standard | grep -zv '^\.venv$' | tar --null -T - -cf - | tar -xf - -C "$WORK"
ln -sfn "$ROOT/.venv" "$WORK/.venv"
cd "$WORK"
# cosmic-ray runs the tests with PYTHONDONTWRITEBYTECODE: compile the copy once, so that only the
# mutated module is compiled again for each mutant.
.venv/bin/python -m compileall -q -x '/\.venv/' . >/dev/null
# The cheapest pytest that runs these tests: the first failure kills the mutant (-x), the test
# database is kept between runs (--reuse-db), and of the plugins only pytest-django is loaded
# (playwright, schemathesis, hypothesis's and faker's plugins take seconds to import; the browser
# tests are left out, hypothesis runs without its plugin).
FAST="-p pytest_django.plugin -o addopts= -p no:cacheprovider --strict-markers --fail-on-template-vars -x -q --reuse-db"

selected=("$@")
summary=()
while IFS='|' read -r name module tests; do
  [ -n "$name" ] || continue
  if [ ${#selected[@]} -gt 0 ] && [[ " ${selected[*]} " != *" $name "* ]]; then continue; fi
  out="$ROOT/var/mutation/$name${MUTATION_FULL:+-full}"
  rerun=0
  if [ "${MUTATION_SURVIVORS:-}" = 1 ] && [ -f "$out.sqlite" ]; then rerun=1; else rm -f "$out.sqlite"; fi
  rm -f "$out.txt"
  write_config() {
    cat > "$out.toml" <<EOF
[cosmic-ray]
module-path = "$module"
timeout = $1
excluded-modules = []
test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 MUTATION_FULL=${MUTATION_FULL:-} .venv/bin/python scripts/mutation_select.py $out.map.json $module $FAST"

[cosmic-ray.distributor]
name = "local"

[cosmic-ray.filters.operators-filter]
exclude-operators = [$EXCLUDED_OPERATORS]
EOF
  }
  write_config 3600.0
  # Baseline: the table's tests, unmutated, recording which test executes which line of the module
  # (scripts/mutation_cover.py); each mutant then runs only the tests that execute the lines it
  # changed, or all of them when it changes code that runs at import (scripts/mutation_select.py).
  log "$name : $module — ligne de base (tests non mutés, quelles lignes du module chacun exécute)"
  started=$SECONDS
  # shellcheck disable=SC2086  # $tests: several pytest arguments
  MUTATION_MODULE="$module" MUTATION_MAP_OUT="$out.map.json" PYTHONPATH="$ROOT/scripts" \
    PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 .venv/bin/python -m pytest $FAST -m "not browser" -p mutation_cover $tests \
    || { echo "Les tests de $module échouent sans mutation." >&2; exit 1; }
  log "$name : $(.venv/bin/python -c 'import json, sys; m = json.load(open(sys.argv[1])); print(len(m["tests"]), "tests,", len(m["lines"]), "lignes exécutées par un test")' "$out.map.json")"
  # A mutant that loops forever is stopped by scripts/mutation_select.py (60 s plus ten times what its
  # tests took in the baseline). cosmic-ray's own timeout is only a backstop, beyond that: shorter, it
  # counted as killed a mutant whose tests were merely slow on a loaded machine (MUTATION_TIMEOUT).
  elapsed=$(( SECONDS - started ))
  longest="$(.venv/bin/python -c 'import json, sys; print(int(60 + 10 * sum(json.load(open(sys.argv[1]))["durations"])))' "$out.map.json")"
  timeout="${MUTATION_TIMEOUT:-$(( (elapsed * 4 > longest ? elapsed * 4 : longest) + 120 ))}"
  write_config "$timeout.0"
  log "$name : délai par mutant $timeout s"
  if [ $rerun = 1 ]; then
    # MUTATION_SURVIVORS=1: keep the previous session (same module text: the mutants keep their
    # positions), forget only the survivors' results, and those cosmic-ray's timeout stopped (a
    # kill not proven by a failing test), and run them again against today's tests.
    "$CR/python" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("delete from work_results where test_outcome = ? or trim(output) = ?", ("SURVIVED", "timeout")).rowcount
db.commit()
print(n)' "$out.sqlite" | { read -r n; log "$name : $n survivants (ou arrêtés par le délai de cosmic-ray) de la session précédente relancés"; }
  else
    "$CR/cosmic-ray" init "$out.toml" "$out.sqlite"
    "$CR/cr-filter-operators" "$out.sqlite" "$out.toml"
  fi
  "$CR/cr-filter-pragma" "$out.sqlite"
  log "$name : $("$CR/cosmic-ray" dump "$out.sqlite" | grep -c ', null\]$' || true) mutants à exécuter"
  # The fork server (scripts/mutation_server.py): each mutant's pytest starts from the libraries
  # already imported, the tree's modules imported afresh.
  MUTATION_SERVER="$SCRATCH/mutation-$name.sock"
  rm -f "$MUTATION_SERVER"
  PYTHONDONTWRITEBYTECODE=1 .venv/bin/python scripts/mutation_server.py serve "$MUTATION_SERVER" "$out.map.json" &
  server_pid=$!
  trap 'kill "$server_pid" 2>/dev/null; cleanup' EXIT
  for _ in $(seq 600); do [ -S "$MUTATION_SERVER" ] || ! kill -0 "$server_pid" 2>/dev/null && break; sleep 0.1; done
  [ -S "$MUTATION_SERVER" ] || { echo "Le serveur de scripts/mutation_server.py n'a pas démarré." >&2; exit 1; }
  export MUTATION_SERVER
  "$CR/cosmic-ray" exec "$out.toml" "$out.sqlite"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  unset MUTATION_SERVER
  "$CR/cr-report" --show-diff --surviving-only "$out.sqlite" > "$out.txt"
  # The score over the mutants that ran (cr-rate would count the filtered ones as killed); a
  # mutant that breaks the import counts as killed, as in cr-rate; one stopped by a timeout too, but
  # the score says how many (cosmic-ray's backstop, or mutation_select's limit: « stopped after »
  # with no test result printed).
  score="$("$CR/cosmic-ray" dump "$out.sqlite" | "$CR/python" -c '
import json, sys
outcomes = [json.loads(line)[1] for line in sys.stdin]
ran = [r for r in outcomes if r and r["worker_outcome"] != "skipped"]
killed = [r for r in ran if r["test_outcome"] != "survived"]
timeouts = sum((r["output"] or "").strip() == "timeout" for r in killed)
print(f"{len(killed)}/{len(ran)} = {100 * len(killed) / max(len(ran), 1):.1f} % (dont {timeouts} par le délai de cosmic-ray)")')"
  summary+=("$name ($module): $score tués — survivants dans var/mutation/$name.txt")
  log "$name : $score tués"
  cat "$out.txt"
done <<< "$MODULES"

log "Score de mutation ($(date -u +%Y-%m-%d))"
printf '%s\n' "${summary[@]}"
