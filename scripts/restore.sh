#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and empty file folders
# (docs/ops/backup.md).
#
#   createdb -h … procuration_restored
#   DATABASE_URL=postgres://…/procuration_restored MEDIA_ROOT=… LISTES_PRIVATE_ROOT=… \
#     scripts/restore.sh /srv/backups/procuration-20261205T020000Z
#
# Checks the archive's checksums first; restores the database in one transaction (all or
# nothing); then unpacks the files. Run `manage.py migrate --check` afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:?usage: scripts/restore.sh BACKUP_FOLDER}"
: "${DATABASE_URL:?DATABASE_URL must name the (empty) database to restore into}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
PG_RESTORE="${PG_BIN:+$PG_BIN/}pg_restore"

(cd "$SRC" && sha256sum --check --quiet SHA256SUMS)

paths="$(cd "$ROOT" && "$PYTHON" -c '
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procuration.settings")
django.setup()
from django.conf import settings
print(settings.MEDIA_ROOT); print(settings.LISTES_PRIVATE_ROOT)')"
MEDIA_DIR="$(sed -n 1p <<<"$paths")"
PRIVATE_DIR="$(sed -n 2p <<<"$paths")"
for dir in "$MEDIA_DIR" "$PRIVATE_DIR"; do
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "Refus : $dir n'est pas vide (restaurer dans des dossiers vides)." >&2; exit 1
  fi
done

"$PG_RESTORE" --no-owner --no-privileges --exit-on-error --single-transaction \
  --dbname "$DATABASE_URL" "$SRC/database.dump"
mkdir -p "$MEDIA_DIR" "$PRIVATE_DIR"
tar -C "$MEDIA_DIR" -xf "$SRC/media.tar"
tar -C "$PRIVATE_DIR" -xf "$SRC/private.tar"
echo "Restauré : base, $MEDIA_DIR, $PRIVATE_DIR"
