"""An audit trail that can be trusted: append-only (ORM guard, PostgreSQL trigger, read-only admin),
hash-chained (one chain per dossier, one for the audit entries), pseudonymised by the purge without
breaking, digested daily, verified by `manage.py verify_audit` (docs/security.md)."""

import datetime
import hashlib
import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procuration import chain
from procuration.models import (
    AppendOnlyError,
    AuditDigest,
    AuditLog,
    ChainHead,
    Procuration,
    ProcurationEvent,
    Status,
    purge_mode,
)
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory

GENESIS = "0" * 64


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=out)
    return out.getvalue()


def _verify_fails() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_audit", stdout=out, stderr=out)
    return out.getvalue()


def _sql(statement: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _tamper(table: str, statement: str, params=()):
    """What a database superuser could do: switch the triggers off, change a row, switch them on again."""
    assert f"{table}_append_only" in _triggers()
    _sql("SET LOCAL session_replication_role = replica")
    _sql(statement, params)
    _sql("SET LOCAL session_replication_role = origin")


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def dossier(commune, policier):
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    p.refuser_autorite(by=policier, motif="personne_absente", detail="M. Dupont ne s'est pas présenté")
    return p


# ------------------------------------------------------------------ append-only
def test_the_orm_cannot_change_or_delete_events_or_audit_entries(dossier, policier):
    entry = AuditLog.record(policier, "test.lecture", dossier, note="x")
    event = dossier.events.get()
    for obj in (entry, event):
        obj.reason = obj.action = "falsifié"
        with pytest.raises(AppendOnlyError):
            obj.save()
        with pytest.raises(AppendOnlyError):
            obj.delete()
        with pytest.raises(AppendOnlyError):
            type(obj).objects.filter(pk=obj.pk).update(at=obj.at)
        with pytest.raises(AppendOnlyError):
            type(obj).objects.filter(pk=obj.pk).delete()
    with pytest.raises(AppendOnlyError):  # a row outside the chain
        ProcurationEvent.objects.create(procuration=dossier, dossier=dossier.pk, from_status="a", to_status="b")
    # Deleting the dossier itself would take its history: refused outside the purge.
    with pytest.raises(models.ProtectedError):
        Procuration.objects.filter(pk=dossier.pk).delete()
    assert ProcurationEvent.objects.filter(procuration=dossier).count() == 1


def test_postgresql_refuses_update_and_delete_in_sql_outside_the_purge(dossier, policier):
    assert connection.vendor == "postgresql"
    entry = AuditLog.record(policier, "test.lecture", dossier)
    for statement in (
        "UPDATE procuration_auditlog SET action = 'falsifié' WHERE id = %s",
        "DELETE FROM procuration_auditlog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
            _sql(statement, [entry.pk])
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():
        _sql("UPDATE procuration_procurationevent SET reason = '' WHERE dossier = %s", [dossier.pk])
    with transaction.atomic(), purge_mode():  # the purge's transaction-local permission
        _sql("UPDATE procuration_procurationevent SET reason = '' WHERE dossier = %s", [dossier.pk])
    with pytest.raises(DatabaseError, match="ajout seul"), transaction.atomic():  # not beyond purge_mode()
        with purge_mode():
            pass
        _sql("DELETE FROM procuration_auditlog WHERE id = %s", [entry.pk])


def test_the_admin_shows_the_trail_read_only(client, admin_national, dossier, policier):
    entry = AuditLog.record(policier, "test.lecture", dossier)
    event = dossier.events.get()
    client.force_login(admin_national)
    for model, obj in ((AuditLog, entry), (ProcurationEvent, event)):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
        page = client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.post(reverse(f"{prefix}_change", args=[obj.pk]), {"action": "x"}).status_code == 403
        assert client.post(reverse(f"{prefix}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert client.get(reverse(f"{prefix}_add")).status_code == 403
    assert AuditLog.objects.get(pk=entry.pk).action == "test.lecture"
    # The dossier's page cannot delete it with its history either.
    response = client.post(reverse("admin:procuration_procuration_delete", args=[dossier.pk]), {"post": "yes"})
    assert Procuration.objects.filter(pk=dossier.pk).exists() and response.status_code in (200, 403)


# ------------------------------------------------------------------ the chains
def _expected_event_hash(e: ProcurationEvent, prev: str) -> str:
    """Recomputed here independently: SHA-256 over prev hash, newline, sorted compact JSON."""
    pii = hashlib.sha256(e.salt.encode() + b"\n" + json.dumps({"reason": e.reason}, separators=(",", ":"), ensure_ascii=False).encode())
    payload = {
        "actor": e.actor_id, "at": e.at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "chain": f"dossier:{e.dossier}", "from": e.from_status, "pii": pii.hexdigest(), "seq": e.seq,
        "to": e.to_status,
    }
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(prev.encode() + b"\n" + body).hexdigest()


def test_each_event_carries_the_hash_of_the_previous_one_of_its_dossier(commune, policier, agent_mairie):
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    other = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
    other.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
    p.invalider_mairie(by=agent_mairie, motif="mandant_non_inscrit", detail="Électeur radié")
    events = list(ProcurationEvent.objects.filter(dossier=p.pk).order_by("seq"))
    assert [e.seq for e in events] == [1, 2]
    prev = GENESIS
    for e in events:
        assert e.prev_hash == prev and e.hash == _expected_event_hash(e, prev)
        prev = e.hash
    assert ProcurationEvent.objects.get(dossier=other.pk).prev_hash == GENESIS  # its own chain
    entries = [AuditLog.record(policier, "test.lecture", p, n=i) for i in range(3)]
    assert [a.prev_hash for a in entries[1:]] == [a.hash for a in entries[:-1]]
    assert ChainHead.objects.get(name="audit").hash == entries[-1].hash
    assert "Journal intègre" in _verify()


def test_a_row_tampered_in_sql_is_reported_by_verify_audit(dossier, policier):
    entries = [AuditLog.record(policier, "police.lookup", dossier, reference=dossier.reference) for _ in range(3)]
    assert "Journal intègre" in _verify()
    _tamper("procuration_auditlog", "UPDATE procuration_auditlog SET action = 'rien' WHERE id = %s", [entries[1].pk])
    report = _verify_fails()
    assert f"chaîne « audit », maillon {entries[1].seq} (procuration_auditlog id {entries[1].pk})" in report
    assert "contenu modifié" in report


def test_personal_fields_and_missing_links_are_reported_too(dossier, policier):
    event = dossier.events.get()
    _tamper("procuration_procurationevent", "UPDATE procuration_procurationevent SET reason = 'autre' WHERE id = %s",
            [event.pk])
    report = _verify_fails()
    assert f"chaîne « dossier {dossier.pk} », maillon 1" in report and "données personnelles modifiées" in report


def test_deleting_audit_entries_is_reported(dossier, policier):
    entries = [AuditLog.record(policier, "test.lecture", dossier) for _ in range(3)]
    _tamper("procuration_auditlog", "DELETE FROM procuration_auditlog WHERE id = %s", [entries[1].pk])
    assert f"maillon {entries[2].seq}" in _verify_fails()
    # The tail too: the chain's head remembers the last link.
    _tamper("procuration_auditlog", "DELETE FROM procuration_auditlog WHERE id = %s", [entries[2].pk])
    assert "des entrées ont été supprimées" in _verify_fails()


def test_an_audit_entry_is_appended_in_one_statement_under_the_heads_lock(dossier, policier):
    """Issue 16: one statement locks the head, writes the entry (its hash computed by PostgreSQL, the
    same as chain.link_hash) and moves the head; in a transaction (here the test's), a savepoint as before."""
    AuditLog.record(policier, "test.lecture", dossier)  # the head exists
    with CaptureQueriesContext(connection) as ctx:
        entry = AuditLog.record(policier, "police.lookup", dossier, reference=dossier.reference, resultat="trouvée ✓")
    statements = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1, statements
    assert "FOR UPDATE" in statements[0] and "procuration_chainhead" in statements[0]
    assert "INSERT INTO" in statements[0] and "UPDATE" in statements[0]
    # The row as stored is the entry returned, the head points at it, the chain verifies.
    stored = AuditLog.objects.get(pk=entry.pk)
    assert (stored.seq, stored.hash, stored.prev_hash, stored.actor_id, stored.ip, stored.detail) == (
        entry.seq, entry.hash, entry.prev_hash, policier.pk, None, {"reference": dossier.reference, "resultat": "trouvée ✓"})
    assert stored.object_id == str(dossier.pk) and stored.at == entry.at and stored.pii_digest == entry.pii_digest
    assert stored.hash == chain.link_hash(stored.prev_hash, stored.payload())  # the server's hash is Python's
    assert ChainHead.objects.filter(name="audit").values_list("seq", "hash").get() == (entry.seq, entry.hash)
    assert "Journal intègre" in _verify()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_audit_entry_is_one_round_trip():
    """The lookup at the counter runs outside any transaction: no BEGIN, no COMMIT, one statement."""
    officer = UserFactory(username="opj-seul", policier=True, totp=False)
    first = AuditLog.record(officer, "test.premiere", None)  # creates the head (the two-statement path)
    assert first.seq == ChainHead.objects.get(name="audit").seq
    with CaptureQueriesContext(connection) as ctx:
        entries = [AuditLog.record(officer, "test.suivante", None, n=i, texte="élision d'Almayrac") for i in range(3)]
    assert len(ctx.captured_queries) == 3, [q["sql"] for q in ctx.captured_queries]
    assert [e.seq for e in entries] == [first.seq + 1, first.seq + 2, first.seq + 3]
    assert [e.prev_hash for e in entries] == [first.hash, entries[0].hash, entries[1].hash]
    assert "Journal intègre" in _verify()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_the_audit_chain_do_not_fork_it():
    assert connection.vendor == "postgresql"
    officers = [UserFactory(username=f"opj-{i}", policier=True, totp=False) for i in range(4)]
    barrier, errors = threading.Barrier(4), []

    def write(officer):
        from django.db import connection as conn

        try:
            barrier.wait()
            for i in range(10):
                AuditLog.record(officer, "test.ecriture", None, n=i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=write, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(AuditLog.objects.values_list("seq", flat=True)) == list(range(1, 41))
    assert "Journal intègre" in _verify()


# ------------------------------------------------------------------ purge and digest
def test_the_purge_pseudonymises_and_the_chains_still_verify(client, dossier, policier, settings):
    from procuration.tasks import expire_and_purge

    client_entry = AuditLog.record(policier, "police.lookup", dossier, reference=dossier.reference)
    other = AuditLog.record(policier, "test.autre", None, note="gardée")
    Procuration.objects.filter(pk=dossier.pk).update(ended_at=dossier.ended_at - datetime.timedelta(days=30))
    assert expire_and_purge()["purgees"] >= 1
    assert not Procuration.objects.filter(pk=dossier.pk).exists()
    event = ProcurationEvent.objects.get(dossier=dossier.pk)
    assert event.purged and event.reason == "" and event.salt == "" and event.procuration_id is None
    assert event.to_status == Status.REFUSEE_AUTORITE  # what happened stays
    entry = AuditLog.objects.get(pk=client_entry.pk)
    assert entry.purged and entry.detail == {} and entry.ip is None and entry.hash == client_entry.hash
    assert AuditLog.objects.get(pk=other.pk).detail == {"note": "gardée"}
    assert "Journal intègre" in _verify()
    client.force_login(policier)  # the officer's history no longer lists the purged dossier
    assert client.get(reverse("police:historique")).status_code == 200


def test_the_daily_digest_is_written_once_a_day_and_anchors_the_chain(dossier, policier, settings):
    from procuration.tasks import record_audit_digest

    assert settings.CELERY_BEAT_SCHEDULE["audit-digest"]["task"] == "procuration.tasks.record_audit_digest"
    entries = [AuditLog.record(policier, "test.lecture", dossier) for _ in range(2)]
    assert record_audit_digest() == entries[-1].hash
    record_audit_digest()  # once a day
    digest = AuditDigest.objects.get()
    assert (digest.audit_seq, digest.dossiers) == (entries[-1].seq, 1)
    heads = f"{dossier.pk}:1:{dossier.events.get().hash}\n".encode()
    assert digest.dossiers_hash == hashlib.sha256(heads).hexdigest()
    with pytest.raises(AppendOnlyError):
        digest.save()
    # Someone who rewrites the last entry and recomputes its hash and the chain's head, so that the
    # chain itself verifies again, is still caught by the day's digest.
    forged = AuditLog.objects.get(pk=entries[-1].pk)
    forged.action = "rien"
    forged.hash = chain.link_hash(forged.prev_hash, forged.payload())
    _tamper("procuration_auditlog", "UPDATE procuration_auditlog SET action = %s, hash = %s WHERE id = %s",
            [forged.action, forged.hash, forged.pk])
    _sql("UPDATE procuration_chainhead SET hash = %s WHERE name = 'audit'", [forged.hash])
    report = _verify_fails()
    assert "contenu modifié" not in report
    assert f"maillon {forged.seq} : ne correspond plus à l'empreinte quotidienne" in report
