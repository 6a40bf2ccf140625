# axe-core for the accessibility tests (tests/a11y/). Source from scripts/test.sh, don't run.
# The pinned npm tarball, fetched once and integrity-checked (ensure_npm_file, scripts/lib.sh);
# axe.min.js lands in .cache/ (git-ignored) and AXE_JS points to it.
AXE_VERSION=4.11.0
AXE_INTEGRITY="sha512-ilYanEU8vxxBexpJd8cWM4ElSQq4QctCLKih0TSfjIfCQTeyH/6zVrmIJfLPrKTKJRbiG+cfnZbQIjAlJmF1jQ=="

ensure_axe() {
  local dest="$ROOT/.cache/axe-core-$AXE_VERSION/axe.min.js"
  ensure_npm_file axe-core "$AXE_VERSION" "$AXE_INTEGRITY" axe.min.js "$dest"
  export AXE_JS="$dest" AXE_VERSION
}
