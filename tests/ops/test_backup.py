"""scripts/backup.sh and scripts/restore.sh on the test PostgreSQL server, while the site writes."""

import os
import subprocess
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection, transaction

from procuration.models import OutboxEmail, Procuration, ProcurationEvent, Status
from tests.factories import ElecteurFactory, ProcurationFactory
from tests.services import wait_until

ROOT = Path(__file__).resolve().parents[2]


def one_validated_demande(commune, officer) -> None:
    """One transaction: a demande and its counter validation (a procuration, its event, its e-mail)."""
    with transaction.atomic():
        p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune), email_contact="m@example.fr")
        assert p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="1234")


def counts(dbname: str) -> tuple[int, int, int]:
    info = connection.settings_dict
    with psycopg.connect(host=info["HOST"], port=info["PORT"], user=info["USER"], dbname=dbname) as c:
        return tuple(
            c.execute(f"SELECT count(*) FROM {model._meta.db_table}").fetchone()[0]
            for model in (Procuration, ProcurationEvent, OutboxEmail)
        )


def url(dbname: str) -> str:
    info = connection.settings_dict
    return f"postgres://{info['USER']}@{info['HOST']}:{info['PORT']}/{dbname}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_backup_while_writing_then_restore_into_a_fresh_database(commune, policier, settings, tmp_path):
    pg_bin = os.environ.get("PG_BIN")
    if not pg_bin or connection.vendor != "postgresql":
        pytest.skip("PostgreSQL of scripts/test.sh needed")
    for _ in range(5):
        one_validated_demande(commune, policier)
    media = Path(settings.MEDIA_ROOT) / "exports" / "registre-81005.pdf"
    piece = Path(settings.LISTES_PRIVATE_ROOT) / "pieces" / "2026" / "justificatif.pdf"
    for path, content in ((media, b"%PDF registre"), (piece, b"%PDF piece")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    source = connection.settings_dict["NAME"]
    before = counts(source)
    assert before == (5, 5, 5)

    # The site keeps writing during the dump.
    stop, written, errors = threading.Event(), [0], []

    def writer():
        try:
            while not stop.is_set():
                one_validated_demande(commune, policier)
                written[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert wait_until(lambda: written[0] >= 2, timeout=30)
        env = {**os.environ, "DATABASE_URL": url(source), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
               "LISTES_PRIVATE_ROOT": str(settings.LISTES_PRIVATE_ROOT), "PG_BIN": pg_bin}
        done = subprocess.run(["bash", "scripts/backup.sh", str(tmp_path / "backups")], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    backup = Path(done.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in backup.iterdir()) == ["SHA256SUMS", "database.dump", "media.tar", "private.tar"]
    after = counts(source)

    # Restore into a fresh database of the same server, and into empty folders.
    target = f"restore_{uuid.uuid4().hex[:12]}"
    info = connection.settings_dict
    pg = ["-h", info["HOST"], "-p", str(info["PORT"]), "-U", info["USER"]]
    subprocess.run([f"{pg_bin}/createdb", *pg, target], check=True)
    try:
        restored_media, restored_private = tmp_path / "media", tmp_path / "private"
        env = {**os.environ, "DATABASE_URL": url(target), "MEDIA_ROOT": str(restored_media),
               "LISTES_PRIVATE_ROOT": str(restored_private), "PG_BIN": pg_bin}
        done = subprocess.run(["bash", "scripts/restore.sh", str(backup)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        check = subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "--check"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        assert check.returncode == 0, check.stdout + check.stderr

        # A consistent snapshot: every transaction of the writer is there whole or not at all.
        restored = counts(target)
        k = restored[0] - before[0]
        assert restored == (before[0] + k, before[1] + k, before[2] + k), (before, restored, after)
        assert 2 <= k <= after[0] - before[0]  # at least what was committed before the dump began
        with psycopg.connect(host=info["HOST"], port=info["PORT"], user=info["USER"], dbname=target) as c:
            statuses = {s for (s,) in c.execute("SELECT DISTINCT status FROM procuration_procuration")}
        assert statuses == {Status.VALIDEE_AUTORITE}
        assert (restored_media / "exports" / "registre-81005.pdf").read_bytes() == b"%PDF registre"
        assert (restored_private / "pieces" / "2026" / "justificatif.pdf").read_bytes() == b"%PDF piece"

        # Restoring over existing files is refused, nothing is touched.
        again = subprocess.run(["bash", "scripts/restore.sh", str(backup)], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=300)
        assert again.returncode != 0 and "n'est pas vide" in again.stderr
    finally:
        subprocess.run([f"{pg_bin}/dropdb", *pg, "--if-exists", target], check=True)
