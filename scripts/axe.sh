# axe-core for the accessibility tests (tests/a11y/). Source from scripts/test.sh, don't run.
# Fetches the pinned npm tarball once with `npm pack`, checks its sha512 integrity against the
# value committed here, extracts axe.min.js into .cache/ (git-ignored) and exports AXE_JS.
AXE_VERSION=4.11.0
AXE_INTEGRITY="sha512-ilYanEU8vxxBexpJd8cWM4ElSQq4QctCLKih0TSfjIfCQTeyH/6zVrmIJfLPrKTKJRbiG+cfnZbQIjAlJmF1jQ=="

ensure_axe() {
  local dest="$ROOT/.cache/axe-core-$AXE_VERSION"
  if [ ! -s "$dest/axe.min.js" ]; then
    command -v npm >/dev/null || ensure_apt npm
    local tmp
    tmp="$(mktemp -d /tmp/axe-core.XXXXXX)"
    log "npm pack axe-core@$AXE_VERSION"
    if ! (cd "$tmp" && npm pack "axe-core@$AXE_VERSION" --pack-destination "$tmp" --silent >/dev/null); then
      # No network: the rest of the suite still runs; the axe tests fail saying AXE_JS is missing.
      echo "npm pack axe-core@$AXE_VERSION a échoué : tests d'accessibilité sans axe-core" >&2
      rm -rf "$tmp"; return 0
    fi
    local tarball="$tmp/axe-core-$AXE_VERSION.tgz"
    local actual
    actual="sha512-$("$ROOT/.venv/bin/python" -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
    if [ "$actual" != "$AXE_INTEGRITY" ]; then
      echo "axe-core-$AXE_VERSION.tgz : intégrité inattendue ($actual)" >&2
      rm -rf "$tmp"; exit 1
    fi
    mkdir -p "$dest"
    tar -xzf "$tarball" -C "$tmp" package/axe.min.js
    mv "$tmp/package/axe.min.js" "$dest/axe.min.js.part" && mv "$dest/axe.min.js.part" "$dest/axe.min.js"
    rm -rf "$tmp"
  fi
  export AXE_JS="$dest/axe.min.js" AXE_VERSION
}
