"""Retention of the listes portal's personal data (listes.retention, docs/listes.md « Conservation des
données »): pièces and closed télédossiers purged at the exact boundary day, files deleted from the
storage only after the commit, the audit trail left whole, the pages that still render, the nightly
task, and the files of a failed upload deleted again."""

import datetime
import os
from html import unescape
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from listes import documents
from listes.models import PIECES_PURGED, Document, Piece, Teledossier, TeledossierEvent, private_storage
from listes.retention import delete_files, purge
from procuration.audit import broken_links
from procuration.exceptions import DomainError
from procuration.models import AuditLog, OutboxEmail
from tests.listes.conftest import ile_post_data, pdf_bytes, upload

NOW = datetime.datetime(2027, 6, 15, 10, 0, tzinfo=datetime.UTC)
PIECES_DAYS = 30
DOSSIERS_DAYS = 400
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def retention(settings):
    settings.LISTES_PIECES_RETENTION_DAYS = PIECES_DAYS
    settings.LISTES_TELEDOSSIERS_RETENTION_DAYS = DOSSIERS_DAYS
    settings.LISTES_TELEDOSSIERS_PER_DAY = 100  # one usager files many dossiers in these tests


def make_piece(owner, created_at=None) -> Piece:
    p = Piece(owner=owner, kind="identite", original_name="cni.pdf", content_type="application/pdf", size=12)
    if created_at is not None:
        p.created_at = created_at
    p.file.save("cni.pdf", ContentFile(b"%PDF-1.4 cni"), save=False)
    p.save()
    return p


def file_rco(commune, usager, pieces, at) -> Teledossier:
    with time_machine.travel(at, tick=False):
        return Teledossier.deposer(
            usager=usager, pieces=pieces, demarche="rco", commune=commune, nom="MARTIN", prenoms="Lucas",
            sexe="M", date_naissance=datetime.date(2010, 3, 4), lieu_naissance="Albi", adresse="5 chemin du Moulin",
            code_postal="81190", ville="Almayrac",
        )


def close(d, agent, at) -> Teledossier:
    with time_machine.travel(at, tick=False):
        assert d.clore(by=agent, comment="Recensement enregistré.") is True
    return d


def closed_dossier(commune, usager, agent, pieces, closed_at) -> Teledossier:
    d = file_rco(commune, usager, pieces, closed_at - 3 * DAY)
    return close(d, agent, closed_at)


def on_disk(name: str) -> bool:
    return private_storage().exists(name)


def run_purge(capture, now=NOW, **kwargs) -> dict:
    with capture(execute=True):
        return purge(now=now, **kwargs)


# ------------------------------------------------------------------ pièces


@pytest.mark.parametrize("closed_ago, purged", [
    (PIECES_DAYS * DAY, False),                 # closed exactly N days ago: kept
    (PIECES_DAYS * DAY + SECOND, True),         # a second more
    ((PIECES_DAYS + 1) * DAY, True),            # N + 1 days ago
    ((PIECES_DAYS - 1) * DAY, False),
])
def test_a_piece_is_purged_once_its_last_closed_dossier_is_older_than_the_period(
        commune, mandant_user, agent_listes, django_capture_on_commit_callbacks, closed_ago, purged):
    p = make_piece(mandant_user, created_at=NOW - 500 * DAY)
    d = closed_dossier(commune, mandant_user, agent_listes, [p], NOW - closed_ago)
    counts = run_purge(django_capture_on_commit_callbacks)
    assert Piece.objects.filter(pk=p.pk).exists() is not purged
    assert on_disk(p.file.name) is not purged
    assert counts == {"teledossiers": 0, "documents": 0, "pieces": int(purged), "fichiers": int(purged)}
    # The dossier itself stays (its own period is longer), and says its pièces are gone, when.
    d = Teledossier.objects.get(pk=d.pk)
    assert list(d.pieces.all()) == ([] if purged else [p])
    assert d.pieces_purged_at == (NOW if purged else None)


def test_a_piece_an_open_dossier_uses_is_kept_until_that_dossier_is_closed_long_enough(
        commune, mandant_user, agent_listes, django_capture_on_commit_callbacks):
    shared = make_piece(mandant_user, created_at=NOW - 900 * DAY)
    old = closed_dossier(commune, mandant_user, agent_listes, [shared], NOW - 200 * DAY)
    current = file_rco(commune, mandant_user, [shared], NOW - 100 * DAY)  # still « transmis »
    assert run_purge(django_capture_on_commit_callbacks)["pieces"] == 0
    current.recevoir(by=agent_listes, comment="Reçu.")  # « reçu » is open too
    assert run_purge(django_capture_on_commit_callbacks)["pieces"] == 0
    assert on_disk(shared.file.name)
    # Closed: the period runs from this last closing.
    close(current, agent_listes, NOW - PIECES_DAYS * DAY)
    assert run_purge(django_capture_on_commit_callbacks)["pieces"] == 0
    assert run_purge(django_capture_on_commit_callbacks, now=NOW + SECOND)["pieces"] == 1
    assert not Piece.objects.filter(pk=shared.pk).exists() and not on_disk(shared.file.name)
    # Both dossiers remain and record the purge once each.
    for d in (old, current):
        events = TeledossierEvent.objects.filter(teledossier=d, action=PIECES_PURGED)
        assert [(e.from_state, e.to_state, e.actor_id, e.comment, e.at) for e in events] == [
            ("clos", "clos", None, "", NOW + SECOND)]


@pytest.mark.parametrize("age, purged", [(PIECES_DAYS * DAY, False), ((PIECES_DAYS + 1) * DAY, True)])
def test_a_piece_never_attached_is_purged_after_the_same_period_from_its_upload(
        mandant_user, django_capture_on_commit_callbacks, age, purged):
    p = make_piece(mandant_user, created_at=NOW - age)
    assert run_purge(django_capture_on_commit_callbacks)["pieces"] == int(purged)
    assert Piece.objects.filter(pk=p.pk).exists() is not purged and on_disk(p.file.name) is not purged


def test_files_are_deleted_only_after_the_commit(mandant_user, django_capture_on_commit_callbacks):
    p = make_piece(mandant_user, created_at=NOW - 90 * DAY)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert purge(now=NOW)["pieces"] == 1
        assert not Piece.objects.filter(pk=p.pk).exists()
        assert on_disk(p.file.name)  # not yet committed: the file is still there
    assert len(callbacks) == 1  # run at the commit
    assert not on_disk(p.file.name)


def test_a_rollback_keeps_rows_and_files(commune, mandant_user, agent_listes, django_capture_on_commit_callbacks):
    p = make_piece(mandant_user, created_at=NOW - 900 * DAY)
    d = closed_dossier(commune, mandant_user, agent_listes, [p], NOW - 500 * DAY)
    doc = Document(teledossier=d, title="Attestation", size=9, created_by=agent_listes)
    doc.file.save("a.pdf", ContentFile(b"%PDF-1.4 a"), save=False)
    doc.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            assert purge(now=NOW) == {"teledossiers": 1, "documents": 1, "pieces": 1, "fichiers": 2}
            raise RuntimeError("the transaction fails after the purge")
    assert callbacks == []
    assert Piece.objects.filter(pk=p.pk).exists() and Document.objects.filter(pk=doc.pk).exists()
    assert Teledossier.objects.filter(pk=d.pk).exists()
    assert on_disk(p.file.name) and on_disk(doc.file.name)


def test_a_file_already_missing_is_not_an_error(mandant_user, django_capture_on_commit_callbacks):
    p = make_piece(mandant_user, created_at=NOW - 90 * DAY)
    private_storage().delete(p.file.name)
    assert run_purge(django_capture_on_commit_callbacks)["pieces"] == 1
    assert not Piece.objects.filter(pk=p.pk).exists()
    assert delete_files([p.file.name, ""]) == 1  # and directly: nothing raised


def test_the_purge_is_idempotent_and_works_in_bounded_batches(mandant_user, django_capture_on_commit_callbacks,
                                                              monkeypatch):
    pieces = [make_piece(mandant_user, created_at=NOW - 90 * DAY) for _ in range(5)]
    kept = make_piece(mandant_user, created_at=NOW - 10 * DAY)
    with django_capture_on_commit_callbacks(execute=True):
        counts = purge(now=NOW, batch_size=2)
    assert counts["pieces"] == 5 and not any(on_disk(p.file.name) for p in pieces)
    assert list(Piece.objects.all()) == [kept]
    assert run_purge(django_capture_on_commit_callbacks) == {
        "teledossiers": 0, "documents": 0, "pieces": 0, "fichiers": 0}
    # A batch reads at most batch_size rows: 3 batches of 2, 2, 1 read by keyset, then an empty read.
    for _ in range(5):
        make_piece(mandant_user, created_at=NOW - 90 * DAY)
    import listes.retention as retention

    batches, real = [], retention._purge_pieces
    monkeypatch.setattr(retention, "_purge_pieces", lambda batch, now: batches.append(list(batch)) or real(batch, now))
    assert run_purge(django_capture_on_commit_callbacks, batch_size=2)["pieces"] == 5
    assert [len(b) for b in batches] == [2, 2, 1]


# ------------------------------------------------------------------ télédossiers


@pytest.mark.parametrize("closed_ago, purged", [
    (DOSSIERS_DAYS * DAY, False), (DOSSIERS_DAYS * DAY + SECOND, True), ((DOSSIERS_DAYS + 1) * DAY, True),
])
def test_a_closed_dossier_is_purged_after_its_period_with_documents_events_and_emails(
        commune, mandant_user, agent_listes, django_capture_on_commit_callbacks, closed_ago, purged):
    d = closed_dossier(commune, mandant_user, agent_listes, [], NOW - closed_ago)
    doc = Document(teledossier=d, title="Attestation", size=9, created_by=agent_listes)
    doc.file.save("a.pdf", ContentFile(b"%PDF-1.4 a"), save=False)
    doc.save()
    ref = f"listes.Teledossier:{d.pk}"
    assert OutboxEmail.objects.filter(object_ref=ref).exists()
    counts = run_purge(django_capture_on_commit_callbacks)
    assert counts == {"teledossiers": int(purged), "documents": int(purged), "pieces": 0, "fichiers": int(purged)}
    assert Teledossier.objects.filter(pk=d.pk).exists() is not purged
    assert Document.objects.filter(pk=doc.pk).exists() is not purged
    assert on_disk(doc.file.name) is not purged
    assert TeledossierEvent.objects.filter(teledossier_id=d.pk).exists() is not purged
    assert OutboxEmail.objects.filter(object_ref=ref).exists() is not purged


def test_an_open_dossier_is_never_purged_however_old(commune, mandant_user, agent_listes,
                                                    django_capture_on_commit_callbacks):
    p = make_piece(mandant_user, created_at=NOW - 3000 * DAY)
    d = file_rco(commune, mandant_user, [p], NOW - 3000 * DAY)
    d.recevoir(by=agent_listes, comment="Reçu.")
    assert run_purge(django_capture_on_commit_callbacks) == {
        "teledossiers": 0, "documents": 0, "pieces": 0, "fichiers": 0}
    assert list(Teledossier.objects.get(pk=d.pk).pieces.all()) == [p] and on_disk(p.file.name)


def test_the_audit_trail_about_a_purged_dossier_is_kept_as_it_was(
        commune, mandant_user, agent_listes, django_capture_on_commit_callbacks):
    p = make_piece(mandant_user, created_at=NOW - 900 * DAY)
    d = closed_dossier(commune, mandant_user, agent_listes, [p], NOW - 500 * DAY)
    AuditLog.record(agent_listes, "listes.piece_download", d, piece=p.pk)
    AuditLog.record(agent_listes, "listes.export_zip", d)
    before = list(AuditLog.objects.order_by("seq").values())
    assert run_purge(django_capture_on_commit_callbacks)["teledossiers"] == 1
    assert not Teledossier.objects.filter(pk=d.pk).exists() and not on_disk(p.file.name)
    assert list(AuditLog.objects.order_by("seq").values()) == before
    assert list(broken_links()) == []


# ------------------------------------------------------------------ the pages after a purge


def test_the_guichet_and_the_espace_render_a_dossier_whose_pieces_were_purged(
        client, file_ile, agent_listes, agent_listes_b, mandant_b, django_capture_on_commit_callbacks):
    d = file_ile()
    piece = d.pieces.first()
    d.refuser(by=agent_listes, motif="Justificatif de domicile trop ancien.")
    later = d.closed_at + (PIECES_DAYS + 1) * DAY
    assert run_purge(django_capture_on_commit_callbacks, now=later)["pieces"] == 2
    notice = f"Pièces supprimées le {timezone.localtime(later):%d/%m/%Y} (durée de conservation écoulée)."

    client.force_login(agent_listes)
    response = client.get(reverse("listes:dossier", args=[d.numero]))
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert notice in html and "Pièces justificatives supprimées (durée de conservation écoulée)" in html
    assert reverse("listes:agent_piece", args=[d.numero, piece.pk]) not in html
    assert client.get(reverse("listes:agent_piece", args=[d.numero, piece.pk])).status_code == 404
    zipped = client.get(reverse("listes:dossier_zip", args=[d.numero]))
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"

    client.force_login(d.usager)
    response = client.get(reverse("listes:usager_dossier", args=[d.numero]))
    html = unescape(response.content.decode())
    assert response.status_code == 200 and notice in html
    assert reverse("listes:usager_piece", args=[piece.pk]) not in html
    assert "conservés 400 jours après sa clôture" in html
    assert client.get(reverse("listes:usager_piece", args=[piece.pk])).status_code == 404
    home = unescape(client.get(reverse("listes:usager_home")).content.decode())
    assert "Elles sont supprimées 30 jours après la clôture du dernier télédossier qui les utilise" in home

    # Others still get 404, as before.
    client.force_login(agent_listes_b)
    assert client.get(reverse("listes:dossier", args=[d.numero])).status_code == 404
    client.force_login(mandant_b)
    assert client.get(reverse("listes:usager_dossier", args=[d.numero])).status_code == 404


def test_a_purged_dossier_answers_404(client, file_ile, agent_listes, django_capture_on_commit_callbacks):
    d = file_ile()
    d.accepter(by=agent_listes, comment="Bienvenue.")
    assert run_purge(django_capture_on_commit_callbacks, now=d.closed_at + (DOSSIERS_DAYS + 1) * DAY) == {
        "teledossiers": 1, "documents": 0, "pieces": 2, "fichiers": 2}
    client.force_login(agent_listes)
    assert client.get(reverse("listes:dossier", args=[d.numero])).status_code == 404
    assert d.numero not in client.get(reverse("listes:home"), {"etat": "tous"}).content.decode()
    client.force_login(d.usager)
    assert client.get(reverse("listes:usager_dossier", args=[d.numero])).status_code == 404
    assert client.get(reverse("listes:usager_home")).status_code == 200


def test_the_personal_data_page_gives_the_listes_periods(db, client, settings):
    settings.LISTES_PIECES_RETENTION_DAYS = 181
    settings.LISTES_TELEDOSSIERS_RETENTION_DAYS = 1826
    html = unescape(client.get(reverse("donnees_personnelles")).content.decode())
    assert "puis supprimées 181 jours après la clôture du dernier télédossier qui les utilise" in html
    assert "Supprimés 1826 jours après leur clôture, avec les documents déposés par la mairie" in html
    assert "ne les supprime pas encore automatiquement" not in html


# ------------------------------------------------------------------ the nightly task


def test_the_purge_task_is_in_the_beat_schedule_and_runs_the_purge(settings, mandant_user):
    from celery.schedules import crontab

    from listes.tasks import purge_listes
    from procuration.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["purge-listes"]
    assert entry["task"] == purge_listes.name == "listes.tasks.purge_listes"
    assert isinstance(entry["schedule"], crontab)
    app.loader.import_default_modules()  # what a worker does: autodiscovery finds listes.tasks
    assert "listes.tasks.purge_listes" in app.tasks
    p = make_piece(mandant_user, created_at=datetime.datetime.now(datetime.UTC) - (PIECES_DAYS + 1) * DAY)
    assert purge_listes.apply().get()["pieces"] == 1
    assert not Piece.objects.filter(pk=p.pk).exists()


@pytest.mark.parametrize("env, expected", [({}, "180 1825"), ({"LISTES_PIECES_RETENTION_DAYS": "91",
                                                                  "LISTES_TELEDOSSIERS_RETENTION_DAYS": "730"}, "91 730")])
def test_the_periods_are_read_from_the_environment_with_their_defaults(env, expected):
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("LISTES_")}
    code = "import procuration.settings as s; print(s.LISTES_PIECES_RETENTION_DAYS, s.LISTES_TELEDOSSIERS_RETENTION_DAYS)"
    done = subprocess.run([sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == expected


# ------------------------------------------------------------------ files of a failed upload


def stored_files() -> set[str]:
    root = Path(private_storage().location)
    return {str(Path(dirpath, f)) for dirpath, _, files in os.walk(root) for f in files}


def test_files_of_a_filing_whose_transaction_fails_are_deleted(client, mandant_user, commune, scrutin, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database failed after the files were saved")

    monkeypatch.setattr(Teledossier, "deposer", broken)
    before = stored_files()
    client.force_login(mandant_user)
    with pytest.raises(RuntimeError):
        client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert stored_files() == before
    assert not Piece.objects.exists()


def test_files_of_a_filing_refused_at_the_last_moment_are_deleted(client, mandant_user, commune, scrutin,
                                                                  monkeypatch):
    def cap_reached(*args, **kwargs):
        raise DomainError("Vous avez déposé trop de télédossiers aujourd'hui.")

    monkeypatch.setattr(Teledossier, "deposer", cap_reached)
    before = stored_files()
    client.force_login(mandant_user)
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 200
    assert "trop de télédossiers" in unescape(response.content.decode())
    assert stored_files() == before
    assert not Piece.objects.exists()
    # The same filing, when it commits, keeps its files.
    monkeypatch.undo()
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 302
    d = Teledossier.objects.get()
    assert [on_disk(p.file.name) for p in d.pieces.all()] == [True, True]


def test_the_file_of_a_mairie_document_whose_save_fails_is_deleted(file_ile, agent_listes, monkeypatch):
    d = file_ile()

    def broken(self, *args, **kwargs):
        raise RuntimeError("the insert failed")

    monkeypatch.setattr(Document, "save", broken)
    before = stored_files()
    with pytest.raises(RuntimeError):
        documents.add_document(d, by=agent_listes, title="Attestation", upload=upload("a.pdf", pdf_bytes()))
    assert stored_files() == before
    monkeypatch.undo()
    doc = documents.add_document(d, by=agent_listes, title="Attestation", upload=upload("a.pdf", pdf_bytes()))
    assert on_disk(doc.file.name)
