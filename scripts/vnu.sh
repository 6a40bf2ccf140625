# The Nu HTML Checker (vnu) for tests/a11y/test_html_valid.py. Source from scripts/test.sh, don't run.
# Fetches the pinned npm tarball `vnu-jar` once with `npm pack`, checks its sha512 integrity against
# the value committed here, extracts vnu.jar into .cache/ (git-ignored) and exports VNU_JAR. It runs
# on Debian's default-jre-headless (installed by scripts/test.sh).
VNU_VERSION=26.9.27
VNU_INTEGRITY="sha512-TkQd5DFfOaWC9ebtvozTsrH2Vaod3jYg+vrOeREzIXxBexLz9+rS2DNtjn7+RPUiZhgli0SghgBX6RJRNea0KA=="

ensure_vnu() {
  local dest="$ROOT/.cache/vnu-jar-$VNU_VERSION"
  if [ ! -s "$dest/vnu.jar" ]; then
    command -v npm >/dev/null || ensure_apt npm
    local tmp
    tmp="$(mktemp -d /tmp/vnu-jar.XXXXXX)"
    log "npm pack vnu-jar@$VNU_VERSION"
    if ! (cd "$tmp" && npm pack "vnu-jar@$VNU_VERSION" --pack-destination "$tmp" --silent >/dev/null); then
      # No network: the rest of the suite still runs; the HTML gate fails saying VNU_JAR is missing.
      echo "npm pack vnu-jar@$VNU_VERSION a échoué : validation HTML impossible" >&2
      rm -rf "$tmp"; return 0
    fi
    local tarball="$tmp/vnu-jar-$VNU_VERSION.tgz"
    local actual
    actual="sha512-$("$ROOT/.venv/bin/python" -c 'import base64, hashlib, sys
print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
    if [ "$actual" != "$VNU_INTEGRITY" ]; then
      echo "vnu-jar-$VNU_VERSION.tgz : intégrité inattendue ($actual)" >&2
      rm -rf "$tmp"; exit 1
    fi
    mkdir -p "$dest"
    tar -xzf "$tarball" -C "$tmp" package/build/dist/vnu.jar
    mv "$tmp/package/build/dist/vnu.jar" "$dest/vnu.jar.part" && mv "$dest/vnu.jar.part" "$dest/vnu.jar"
    rm -rf "$tmp"
  fi
  export VNU_JAR="$dest/vnu.jar" VNU_VERSION
}
