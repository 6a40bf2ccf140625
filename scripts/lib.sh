# Shared helpers for scripts/run.sh, scripts/test.sh and scripts/mutation.sh. Source, don't run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never
export PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

_apt_updated=0
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "Paquets manquants : ${missing[*]} (relancer en root ou les installer)" >&2; exit 1
    fi
    log "apt-get install ${missing[*]}"
    if [ $_apt_updated = 0 ]; then apt-get update -qq >/dev/null; _apt_updated=1; fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

PYTHON="${PYTHON:-}"
find_python() {
  if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
        PYTHON="$(command -v "$candidate")"; break
      fi
    done
  fi
  if [ -z "$PYTHON" ]; then
    ensure_apt python3.11 python3.11-venv
    PYTHON=/usr/bin/python3.11
  fi
}

# Create .venv and install the locked dependencies (hash-checked) when the lock changed.
ensure_venv() {
  local lock="${1:-requirements/dev.lock}"
  local stamp=".venv/.installed-$(basename "$lock" .lock)-$(sha256sum "$lock" | cut -c1-16)"
  if [ -f "$stamp" ]; then return; fi
  find_python
  if [ ! -x .venv/bin/python ]; then
    log "création de .venv ($PYTHON)"
    "$PYTHON" -m venv .venv || { ensure_apt python3.11-venv; "$PYTHON" -m venv .venv; }
  fi
  .venv/bin/python -m pip install -q uv==0.13.8
  log "installation des dépendances ($lock)"
  .venv/bin/uv pip install -q --python .venv/bin/python --require-hashes -r "$lock"
  rm -f ".venv/.installed-$(basename "$lock" .lock)-"*
  touch "$stamp"
}

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# PostgreSQL and Redis on free loopback ports in a scratch directory under /tmp, and the
# environment the tests read; both are stopped and the directory removed when the script exits.
# Needs the Debian packages (ensure_apt) and .venv (ensure_venv).
start_test_services() {
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
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $SCRATCH/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${TEST_PG_OPTIONS:-}" \
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
}

# Fetch one file out of a pinned npm tarball, once: `npm pack NAME@VERSION`, check the tarball's
# sha512 against INTEGRITY (the value committed in the caller), extract MEMBER into DEST (under the
# git-ignored .cache/). Without network the caller's test fails saying its file is missing.
# Usage: ensure_npm_file NAME VERSION INTEGRITY MEMBER DEST
ensure_npm_file() {
  local name="$1" version="$2" integrity="$3" member="$4" dest="$5"
  [ -s "$dest" ] && return 0
  command -v npm >/dev/null || ensure_apt npm
  local tmp actual
  tmp="$(mktemp -d "/tmp/$name.XXXXXX")"
  log "npm pack $name@$version"
  if ! (cd "$tmp" && npm pack "$name@$version" --pack-destination "$tmp" --silent >/dev/null); then
    echo "npm pack $name@$version a échoué : les tests qui en ont besoin échoueront" >&2
    rm -rf "$tmp"; return 0
  fi
  actual="sha512-$("$ROOT/.venv/bin/python" -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tmp/$name-$version.tgz")"
  if [ "$actual" != "$integrity" ]; then
    echo "$name-$version.tgz : intégrité inattendue ($actual)" >&2
    rm -rf "$tmp"; exit 1
  fi
  mkdir -p "$(dirname "$dest")"
  tar -xzf "$tmp/$name-$version.tgz" -C "$tmp" "package/$member"
  mv "$tmp/package/$member" "$dest.part" && mv "$dest.part" "$dest"
  rm -rf "$tmp"
}
