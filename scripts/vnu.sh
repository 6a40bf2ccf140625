# The Nu HTML Checker (vnu) for tests/a11y/test_html_valid.py. Source from scripts/test.sh, don't run.
# The pinned npm tarball `vnu-jar`, fetched once and integrity-checked (ensure_npm_file,
# scripts/lib.sh); vnu.jar lands in .cache/ (git-ignored) and VNU_JAR points to it. It runs on
# Debian's default-jre-headless (installed by scripts/test.sh).
VNU_VERSION=26.9.27
VNU_INTEGRITY="sha512-TkQd5DFfOaWC9ebtvozTsrH2Vaod3jYg+vrOeREzIXxBexLz9+rS2DNtjn7+RPUiZhgli0SghgBX6RJRNea0KA=="

ensure_vnu() {
  local dest="$ROOT/.cache/vnu-jar-$VNU_VERSION/vnu.jar"
  ensure_npm_file vnu-jar "$VNU_VERSION" "$VNU_INTEGRITY" build/dist/vnu.jar "$dest"
  export VNU_JAR="$dest" VNU_VERSION
}
