#!/usr/bin/env bash
# Back up a running installation (docs/ops/backup.md): the database as a pg_dump custom-format
# archive (one consistent snapshot, taken while the site keeps writing), the media files
# (MEDIA_ROOT: registre exports) and the pièces justificatives (LISTES_PRIVATE_ROOT).
#
#   DATABASE_URL=postgres://… scripts/backup.sh /srv/backups
#
# Writes /srv/backups/procuration-<UTC time>/{database.dump, media.tar, private.tar, SHA256SUMS}
# and prints that folder. MEDIA_ROOT and LISTES_PRIVATE_ROOT are read from the Django settings
# (so from the same environment as the app).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:?usage: scripts/backup.sh DESTINATION_FOLDER}"
: "${DATABASE_URL:?DATABASE_URL must name the database to back up}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
PG_DUMP="${PG_BIN:+$PG_BIN/}pg_dump"

paths="$(cd "$ROOT" && "$PYTHON" -c '
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")
django.setup()
from django.conf import settings
print(settings.MEDIA_ROOT); print(settings.LISTES_PRIVATE_ROOT)')"
MEDIA_DIR="$(sed -n 1p <<<"$paths")"
PRIVATE_DIR="$(sed -n 2p <<<"$paths")"

OUT="$DEST/procuration-$(date -u +%Y%m%dT%H%M%SZ)"
umask 077  # personal data: readable by the backup's owner only
mkdir -p "$OUT.partial"

# --format=custom: compressed, restored selectively and in parallel by pg_restore. pg_dump reads
# in one REPEATABLE READ transaction: a consistent snapshot, no lock that blocks the site's writes.
"$PG_DUMP" --format=custom --no-owner --no-privileges --file "$OUT.partial/database.dump" "$DATABASE_URL"

archive() {  # archive FOLDER NAME: the folder's content (an absent folder gives an empty archive)
  if [ -d "$1" ]; then tar -C "$1" -cf "$OUT.partial/$2" .; else tar -cf "$OUT.partial/$2" -T /dev/null; fi
}
archive "$MEDIA_DIR" media.tar
archive "$PRIVATE_DIR" private.tar

(cd "$OUT.partial" && sha256sum database.dump media.tar private.tar > SHA256SUMS)
mv "$OUT.partial" "$OUT"  # a folder without .partial is a complete backup
echo "$OUT"
