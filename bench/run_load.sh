#!/usr/bin/env bash
# Load benchmark of the three-step flow (mandant files → officer validates → mairie validates).
# Starts, on free loopback ports in a scratch directory: PostgreSQL (bench tuning, fsync off: see
# docs/performance.md), Redis, an SMTP sink (aiosmtpd), a Celery worker (2 processes, as in
# docker-compose.yml) and gunicorn (2 workers × 4 threads, as in the Dockerfile) with production
# settings (DEBUG=false, MFA for staff); loads BENCH_N procurations; then runs locust headless:
#   1. the flow for BENCH_DURATION seconds, as fast as it goes, then at BENCH_PACED_RATE demandes/s,
#   2. the counter lookup alone, 3. the bare view (ceiling), 4. the audited floor (an officer's
#      session + one audit entry, bench/load/bench_urls.py) and 5. the page floor (the counter's
#      form, GET /police/), alternating for BENCH_ROUNDS rounds;
# then the registre PDF of 1,000 lines, the listes ZIP and the e-mails per second through the
# worker; the mairie queue's CPU against the bare view (bench/form_render.py, in process); the
# scale phase (bench/load/scale.py: every portal page's query count and time at BENCH_N, then
# after loading rows up to BENCH_SCALE_N = 5 × BENCH_N in the same database); prints the targets
# of issue 16 with PASS/MISS and, per locust phase, the CPU seconds of each group of processes
# (gunicorn, PostgreSQL, Redis, Celery, SMTP sink, locust; bench/load/cpu.py) and the server's CPU
# per request (bench/load/report.py). Not part of the test suite. Everything stops
# at the end. The paced phase offers half the flow capacity measured by the flow phase of the same
# run (BENCH_PACED_RATE forces a rate).
#   bash bench/run_load.sh                   # 1,000,000 procurations, 60 s of flow, scale 1 M → 5 M
#   BENCH_N=20000 BENCH_POOL=3000 BENCH_DURATION=20 bash bench/run_load.sh   # quick check (scale 20 k → 100 k)
#   BENCH_PHASES="lookup bare" bash bench/run_load.sh                         # some phases only
#   BENCH_WEB_WORKERS=4 BENCH_WEB_THREADS=2 bash bench/run_load.sh           # another gunicorn layout (default 2 × 4, the Dockerfile's)
source "$(dirname "$0")/../scripts/lib.sh"

ensure_apt postgresql redis-server libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
ensure_venv requirements/bench.lock

export BENCH_N="${BENCH_N:-1000000}"
export BENCH_POOL="${BENCH_POOL:-20000}"
DURATION="${BENCH_DURATION:-60}"        # seconds of measured flow
PHASE="${BENCH_PHASE_DURATION:-20}"     # seconds of lookup, then of bare view
PHASES=" ${BENCH_PHASES:-flow paced lookup bare floor measures queue scale} "   # a subset, to iterate on one measure
PACED_RATE="${BENCH_PACED_RATE:-}"      # demandes offered per second in the paced phase (default: half the flow's)
export BENCH_SCALE_N="${BENCH_SCALE_N:-$(( 5 * BENCH_N ))}"   # procurations after the scale phase's load
ROUNDS="${BENCH_ROUNDS:-3}"             # rounds of (lookup, bare view)
# Users per step roughly in proportion to the step's cost, so that no step starves the next one.
export BENCH_MANDANTS="${BENCH_MANDANTS:-6}" BENCH_OFFICER_USERS="${BENCH_OFFICER_USERS:-3}"
export BENCH_MAIRIE_USERS="${BENCH_MAIRIE_USERS:-4}" BENCH_LOOKUP_USERS="${BENCH_LOOKUP_USERS:-8}"
export BENCH_BARE_USERS="${BENCH_BARE_USERS:-8}"
export BENCH_FLOW_COMMUNES="$BENCH_MAIRIE_USERS"
export BENCH_OFFICERS=$(( BENCH_OFFICER_USERS > BENCH_LOOKUP_USERS ? BENCH_OFFICER_USERS : BENCH_LOOKUP_USERS ))

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
SCRATCH="$(mktemp -d /tmp/procuration-load.XXXXXX)"
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/pg" "$SCRATCH/sock" "$SCRATCH/var" "$SCRATCH/out"
chown postgres:postgres "$SCRATCH/pg" "$SCRATCH/sock"
PG_PORT="$(free_port)"; REDIS_PORT="$(free_port)"; SMTP_PORT="$(free_port)"; WEB_PORT="$(free_port)"
KEEP="$ROOT/var/bench-load/$(date +%Y%m%d-%H%M%S)"
PIDS=()

cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$SCRATCH/redis.pid" ] && kill "$(cat "$SCRATCH/redis.pid")" 2>/dev/null
  mkdir -p "$KEEP" && cp -r "$SCRATCH/out/." "$KEEP/" 2>/dev/null && log "résultats gardés dans $KEEP"
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

log "PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, SMTP :$SMTP_PORT, gunicorn :$WEB_PORT ($SCRATCH)"
runuser -u postgres -- "$PG_BIN/initdb" -D "$SCRATCH/pg" -A trust -U postgres >/dev/null
# Bench tuning: fsync, synchronous_commit and full_page_writes off (a throw-away database; a
# production server keeps them on), larger shared_buffers and WAL for the 1 M-row load.
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -l "$SCRATCH/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SCRATCH/sock -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c shared_buffers=256MB -c max_wal_size=4GB -c max_connections=100 \
      -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top -c pg_stat_statements.track_planning=on" \
  start >/dev/null
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres procuration
psql() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d procuration -X -q "$@"; }
psql -c "CREATE EXTENSION pg_stat_statements"
top_queries() {  # the heaviest statements since the last reset, for profiling (kept in the results)
  # Planning apart from execution (track_planning): a statement planned on every run shows plans = calls.
  psql -P pager=off -c "SELECT sum(calls) AS calls, sum(plans) AS plans, round(sum(total_plan_time)) AS plan_ms,
    round(sum(total_exec_time)) AS exec_ms FROM pg_stat_statements" >"$SCRATCH/out/pg_top_$1.txt" || true
  psql -P pager=off -c "SELECT calls, plans, round(total_plan_time) AS plan_ms, round(total_exec_time) AS total_ms,
    round(mean_exec_time::numeric, 2) AS mean_ms,
    rows, left(regexp_replace(regexp_replace(query, '\s+', ' ', 'g'), '^SELECT .*? FROM ', 'SELECT … FROM '), 400)
    AS query FROM pg_stat_statements
    ORDER BY total_exec_time + total_plan_time DESC LIMIT 30" >>"$SCRATCH/out/pg_top_$1.txt" || log "profil SQL indisponible"
  psql -c "SELECT pg_stat_statements_reset()" >/dev/null
}
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
  --dir "$SCRATCH" --pidfile "$SCRATCH/redis.pid" --logfile "$SCRATCH/redis.log"

# Production settings, on loopback without TLS.
export DEBUG=false SECRET_KEY="bench-$(head -c 24 /dev/urandom | base64)" ALLOWED_HOSTS=127.0.0.1
export SITE_URL="http://127.0.0.1:$WEB_PORT" SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_HSTS_SECONDS=0
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/procuration"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0" REDIS_CACHE_URL="redis://127.0.0.1:$REDIS_PORT/1"
export EMAIL_HOST=127.0.0.1 EMAIL_PORT="$SMTP_PORT" LOG_LEVEL=WARNING
export VAR_DIR="$SCRATCH/var" STATIC_ROOT="$ROOT/var/bench-static"
# Every request comes from 127.0.0.1: the counter's per-IP lookup limit (30 per 10 min) would stop
# the benchmark after 30 lookups. Raised here only; production keeps its default.
export POLICE_LOOKUP_LIMIT=1000000000 POLICE_LOOKUP_IP_LIMIT=1000000000
export BENCH_DATA="$SCRATCH/out/data.json"

log "migrate"
.venv/bin/python manage.py migrate -v 0
if [ ! -f "$STATIC_ROOT/staticfiles.json" ]; then
  log "collectstatic (une fois, dans $STATIC_ROOT)"
  .venv/bin/python manage.py collectstatic --noinput -v 0
fi
log "chargement de $BENCH_N procurations"
BENCH_OUT="$BENCH_DATA" .venv/bin/python bench/load/load_data.py

.venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink >"$SCRATCH/smtp.log" 2>&1 &
PIDS+=($!)
.venv/bin/celery -A procuration worker --concurrency 2 --loglevel WARNING >"$SCRATCH/worker.log" 2>&1 &
PIDS+=($!)
DJANGO_SETTINGS_MODULE=bench_settings .venv/bin/gunicorn procuration.wsgi:application \
  --pythonpath bench/load --bind "127.0.0.1:$WEB_PORT" --workers "${BENCH_WEB_WORKERS:-2}" --threads "${BENCH_WEB_THREADS:-4}" --keep-alive 0 \
  --error-logfile "$SCRATCH/gunicorn.log" &
PIDS+=($!)
for _ in $(seq 100); do
  curl -fs -o /dev/null "http://127.0.0.1:$WEB_PORT/" && break; sleep 0.3
done
curl -fs -o /dev/null "http://127.0.0.1:$WEB_PORT/" || { cat "$SCRATCH/gunicorn.log"; exit 1; }
# Root pid of each group of processes whose CPU locust samples at the edges of each measured window
# (bench/load/cpu.py: the root and its descendants; locust adds itself): printed by report.py.
export BENCH_CPU_GROUPS="gunicorn=${PIDS[2]} postgres=$(head -n 1 "$SCRATCH/pg/postmaster.pid") \
redis=$(cat "$SCRATCH/redis.pid") celery=${PIDS[1]} smtp=${PIDS[0]}"

run_locust() {  # name, seconds, users, classes...
  local name="$1" seconds="$2" users="$3"; shift 3
  log "locust : $name, $users utilisateurs, $seconds s mesurées (+ connexions)"
  # locust stops itself BENCH_MEASURE_SECONDS after the last user is logged in; -t and timeout are safety nets.
  BENCH_RESULT="$SCRATCH/out/$name.json" BENCH_EXPECTED="$users" BENCH_MEASURE_SECONDS="$seconds" \
    timeout $(( seconds + 400 )) \
    .venv/bin/locust -f bench/load/locustfile.py --headless -u "$users" -r "$users" -t "$(( seconds + 300 ))s" \
    --host "http://127.0.0.1:$WEB_PORT" --csv "$SCRATCH/out/$name" --only-summary --stop-timeout 5 \
    --exit-code-on-error 0 --loglevel WARNING "$@" >"$SCRATCH/out/$name.log" 2>&1 \
    || { tail -30 "$SCRATCH/out/$name.log"; exit 1; }
}
uptime | tee "$SCRATCH/out/uptime-before.txt"
psql -c "SELECT pg_stat_statements_reset()" >/dev/null
if [[ "$PHASES" == *" flow "* ]]; then
  run_locust flow "$DURATION" $(( BENCH_MANDANTS + BENCH_OFFICER_USERS + BENCH_MAIRIE_USERS )) \
    MandantUser OfficerUser MairieUser
  top_queries flow
fi
# The same flow below saturation: demandes offered at BENCH_PACED_RATE per second (open loop for
# the mandants; officers and agents take them as they come), for the latency users would see.
if [ -z "$PACED_RATE" ]; then  # half the flow capacity measured just above (3 without a flow phase)
  PACED_RATE="$(python3 -c "import json,sys
try: d=json.load(open('$SCRATCH/out/flow.json')); print(round(max(d['state']['flows'] / d['window'] / 2, 0.1), 2))
except Exception: print(3)")"
  log "allure du parcours au pas : $PACED_RATE demandes/s (la moitié de la capacité mesurée)"
fi
if [[ "$PHASES" == *" paced "* ]]; then
  export BENCH_PACE="$(python3 -c "print($BENCH_MANDANTS / $PACED_RATE)")" BENCH_MANDANT_OFFSET=$(( BENCH_POOL / 2 ))
  run_locust paced "$DURATION" $(( BENCH_MANDANTS + BENCH_OFFICER_USERS + BENCH_MAIRIE_USERS )) \
    MandantUser OfficerUser MairieUser
  unset BENCH_PACE BENCH_MANDANT_OFFSET
fi
# The lookup and its ceiling alternate for BENCH_ROUNDS rounds: on a shared machine the speed
# drifts from one minute to the next, and the ratio is taken within each round (report.py).
for round in $(seq "$ROUNDS"); do
  if [[ "$PHASES" == *" lookup "* ]]; then
    psql -c "SELECT pg_stat_statements_reset()" >/dev/null
    run_locust "lookup-$round" "$PHASE" "$BENCH_LOOKUP_USERS" CounterUser
    top_queries "lookup-$round"
  fi
  if [[ "$PHASES" == *" bare "* ]]; then run_locust "bare-$round" "$PHASE" "$BENCH_BARE_USERS" BareUser; fi
  # The floor of an audited officer's request, with as many users as the lookup (issue 16).
  if [[ "$PHASES" == *" floor "* ]]; then run_locust "floor-$round" "$PHASE" "$BENCH_LOOKUP_USERS" FloorUser; fi
  # The floor of an HTML page: the counter's form, GET (the cheapest page of the flow).
  if [[ "$PHASES" == *" floor "* ]]; then run_locust "page-$round" "$PHASE" "$BENCH_LOOKUP_USERS" PageFloorUser; fi
done
uptime | tee "$SCRATCH/out/uptime-after.txt"

if [[ "$PHASES" == *" measures "* ]]; then
  log "registre PDF, ZIP, courriels par seconde"
  BENCH_RESULT="$SCRATCH/out/measures.json" .venv/bin/python bench/load/measure.py || log "mesures hors HTTP en échec"
fi

# The in-process measures below use Django's test client (host "testserver").
if [[ "$PHASES" == *" queue "* ]]; then
  log "file de la mairie, 50 lignes : CPU en processus contre la vue nue (bench/form_render.py)"
  ALLOWED_HOSTS="127.0.0.1,testserver" .venv/bin/python -W ignore::DeprecationWarning bench/form_render.py \
    --queue-phases --rounds "${BENCH_QUEUE_ROUNDS:-3}" --requests 20 --json "$SCRATCH/out/queue.json" \
    | tee "$SCRATCH/out/queue.txt" || log "mesure de la file en échec"
fi
if [[ "$PHASES" == *" scale "* ]]; then
  log "échelle : pages du portail à $BENCH_N puis à $BENCH_SCALE_N procurations"
  ALLOWED_HOSTS="127.0.0.1,testserver" BENCH_RESULT="$SCRATCH/out/scale.json" \
    .venv/bin/python -W ignore::DeprecationWarning bench/load/scale.py | tee "$SCRATCH/out/scale.txt" \
    || log "phase d'échelle en échec"
fi

export BENCH_PACED_RATE="$PACED_RATE"
export BENCH_CONTEXT="$(python3 -c "import json;d=json.load(open('$BENCH_DATA'));print(f\"{d['n_procurations']:,} procurations, {d['n_electeurs']:,} électeurs\")"); $(nproc) cœurs; charge avant : $(sed 's/.*load average/load average/' "$SCRATCH/out/uptime-before.txt")"
.venv/bin/python bench/load/report.py "$SCRATCH/out" | tee "$SCRATCH/out/report.txt"
