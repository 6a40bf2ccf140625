#!/usr/bin/env bash
# E-mails per second from the outbox to a real SMTP server, this tree against another git revision
# (main by default), in one run on the same services: PostgreSQL (bench tuning as bench/run_load.sh),
# Redis, an SMTP sink (aiosmtpd), and for each tree a Celery worker of 2 processes (docker-compose).
# Rounds alternate the trees (A B A B …) because the machine is shared and drifts. Each round is
# bench/load/measure.py's "emails" measure of that tree: BENCH_EMAILS rows written, handed over with
# outbox.enqueue() one by one, timed until all are sent. Not part of the test suite.
#   bash bench/emails.sh                                  # main vs this tree, 3 rounds of 2,000
#   BENCH_BASE=perf BENCH_ROUNDS=5 BENCH_EMAILS=3000 bash bench/emails.sh
source "$(dirname "$0")/../scripts/lib.sh"

ensure_apt postgresql redis-server
BASE="${BENCH_BASE:-main}"
ROUNDS="${BENCH_ROUNDS:-3}"
export BENCH_EMAILS="${BENCH_EMAILS:-2000}"
export BENCH_N="${BENCH_N:-3000}" BENCH_POOL="${BENCH_POOL:-100}" BENCH_COMMUNES="${BENCH_COMMUNES:-10}"

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
SCRATCH="$(mktemp -d /tmp/procuration-emails.XXXXXX)"
chmod 755 "$SCRATCH"
mkdir -p "$SCRATCH/pg" "$SCRATCH/sock" "$SCRATCH/out" "$SCRATCH/base"
chown postgres:postgres "$SCRATCH/pg" "$SCRATCH/sock"
PG_PORT="$(free_port)"; REDIS_PORT="$(free_port)"; SMTP_PORT="$(free_port)"
PIDS=()
WORKER=""

stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
cleanup() {
  set +e
  [ -n "$WORKER" ] && stop_pid "$WORKER"
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$SCRATCH/redis.pid" ] && kill "$(cat "$SCRATCH/redis.pid")" 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

git archive "$BASE" | tar -x -C "$SCRATCH/base"
ln -s "$ROOT/.venv" "$SCRATCH/base/.venv"
log "base $BASE ($(git rev-parse --short "$BASE")) contre l'arbre $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+modifs') ; PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, SMTP :$SMTP_PORT"

runuser -u postgres -- "$PG_BIN/initdb" -D "$SCRATCH/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$SCRATCH/pg" -l "$SCRATCH/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SCRATCH/sock -c fsync=off -c synchronous_commit=off \
      -c full_page_writes=off -c max_connections=100" start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
  --dir "$SCRATCH" --pidfile "$SCRATCH/redis.pid" --logfile "$SCRATCH/redis.log"

export DEBUG=false SECRET_KEY="bench-$(head -c 24 /dev/urandom | base64)" ALLOWED_HOSTS=127.0.0.1
export EMAIL_HOST=127.0.0.1 EMAIL_PORT="$SMTP_PORT" LOG_LEVEL=WARNING VAR_DIR="$SCRATCH/var"
.venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink >"$SCRATCH/smtp.log" 2>&1 &
PIDS+=($!)

tree_env() {  # base|head: its own database and Redis databases
  local db=2; if [ "$1" = head ]; then db=4; fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/emails_$1"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/$db" REDIS_CACHE_URL="redis://127.0.0.1:$REDIS_PORT/$((db + 1))"
  export BENCH_DATA="$SCRATCH/out/data-$1.json"
  if [ "$1" = base ]; then DIR="$SCRATCH/base"; else DIR="$ROOT"; fi
}
for tree in base head; do
  tree_env "$tree"
  runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "emails_$tree"
  log "$tree : migrate, $BENCH_N procurations"
  (cd "$DIR" && .venv/bin/python manage.py migrate -v 0 && BENCH_OUT="$BENCH_DATA" .venv/bin/python bench/load/load_data.py >/dev/null)
done

for round in $(seq "$ROUNDS"); do
  for tree in base head; do
    tree_env "$tree"
    (cd "$DIR" && exec .venv/bin/celery -A procuration worker --concurrency 2 --loglevel WARNING) \
      >>"$SCRATCH/worker-$tree.log" 2>&1 &
    WORKER=$!
    sleep 5  # the two processes are forked and consuming
    uptime >"$SCRATCH/out/uptime-$tree-$round.txt"
    # measure.py counts the rows of its object_ref: only this round's
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "emails_$tree" -X -q \
      -c "DELETE FROM procuration_outboxemail WHERE object_ref = 'bench:emails'"
    (cd "$DIR" && BENCH_RESULT="$SCRATCH/out/$tree-$round.json" .venv/bin/python bench/load/measure.py emails) \
      | sed "s/^/manche $round, $tree : /"
    stop_pid "$WORKER"; WORKER=""
  done
done

.venv/bin/python - "$SCRATCH/out" "$ROUNDS" "$BASE" <<'EOF'
import json, statistics, sys
from pathlib import Path
out, rounds, base = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rate = {t: [json.loads((out / f"{t}-{r}.json").read_text())["emails"]["per_second"] for r in range(1, rounds + 1)]
        for t in ("base", "head")}
sent = {t: [json.loads((out / f"{t}-{r}.json").read_text())["emails"]["sent"] for r in range(1, rounds + 1)]
        for t in ("base", "head")}
loads = [(out / f"uptime-{t}-{r}.txt").read_text().split("load average:")[1].strip()
         for r in range(1, rounds + 1) for t in ("base", "head")]
for t, name in (("base", base), ("head", "cet arbre")):
    print(f"{name:>10} : " + " / ".join(f"{v:.0f}" for v in rate[t]) + f" courriels/s → médiane {statistics.median(rate[t]):.0f}/s"
          f" (envoyés : {sent[t]})")
ratios = [h / b for b, h in zip(rate["base"], rate["head"])]
print("rapport par manche : " + " / ".join(f"{r:.2f}" for r in ratios) + f" → médiane {statistics.median(ratios):.2f}")
print("charge (uptime, 1/5/15 min) au début de chaque mesure : " + " ; ".join(loads))
EOF
