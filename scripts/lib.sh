# Shared helpers for scripts/run.sh and scripts/test.sh. Source, don't run.
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
