"""Usager side: filing an ILE or an RCO, uploads checked by content and size, deadlines."""

import datetime
import html
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from listes import rules
from listes.models import Etat, Piece, Teledossier
from procuration.exceptions import DomainError
from tests.factories import ScrutinFactory, UserFactory
from tests.listes.conftest import ile_post_data, pdf_bytes, rco_post_data, upload

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NUMERO_RE = re.compile(r"^A-9-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{8}$")


def test_ile_filing_gives_number_emails_and_espace(client, mandant_user, commune, scrutin, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    client.force_login(mandant_user)
    assert client.get(reverse("listes:usager_ile_new")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 302
    d = Teledossier.objects.get()
    assert NUMERO_RE.match(d.numero)
    assert d.etat == Etat.TRANSMIS
    assert d.usager == mandant_user and d.email == "marie.dupont@example.fr"
    assert d.nom == "DUPONT" and d.prenoms == "Marie Claire" and d.scrutin == scrutin
    assert sorted(p.kind for p in d.pieces.all()) == ["attache", "identite"]
    assert {p.content_type for p in d.pieces.all()} == {"application/pdf", "image/png"}
    assert d.events.get().to_state == Etat.TRANSMIS

    by_to = {m.to[0]: m for m in mailoutbox}
    assert set(by_to) == {"marie.dupont@example.fr", commune.email_service}
    assert d.numero in by_to["marie.dupont@example.fr"].subject
    service = by_to[commune.email_service]
    assert d.numero in service.subject
    assert reverse("listes:dossier", args=[d.numero]) in service.body

    page = client.get(response["Location"]).content.decode()
    assert d.numero in page and "Dossier transmis au service traitant" in page
    home = client.get(reverse("listes:usager_home")).content.decode()
    assert d.numero in home and "cni.pdf" in home


def test_numero_is_unique_with_retry(monkeypatch, mandant_user, commune, scrutin):
    from listes import models

    first = Teledossier.deposer(usager=mandant_user, pieces=[], demarche="rco", commune=commune, nom="A", prenoms="B",
                                sexe="F", date_naissance=datetime.date(2009, 1, 1), lieu_naissance="Albi",
                                adresse="1 rue", code_postal="81000", ville="Albi")
    codes = iter([first.numero, first.numero, "A-9-ZZZZ2222"])
    monkeypatch.setattr(models, "generate_numero", lambda: next(codes))
    second = Teledossier.deposer(usager=mandant_user, pieces=[], demarche="rco", commune=commune, nom="A", prenoms="B",
                                 sexe="F", date_naissance=datetime.date(2009, 1, 1), lieu_naissance="Albi",
                                 adresse="1 rue", code_postal="81000", ville="Albi")
    assert second.numero == "A-9-ZZZZ2222"


def test_normalize_numero():
    from listes.models import normalize_numero

    assert normalize_numero("a9nkt2g5kb") == "A-9-NKT2G5KB"
    assert normalize_numero(" A-9-nkt2 g5kb ") == "A-9-NKT2G5KB"
    assert normalize_numero("nkt2g5kb") == "A-9-NKT2G5KB"


def test_forged_pdf_is_refused_and_nothing_is_created(client, mandant_user, commune, scrutin, mailoutbox):
    client.force_login(mandant_user)
    forged = upload("cni.pdf", b"MZ\x90\x00 this is not a PDF at all " * 20)
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune, piece_identite=forged))
    assert response.status_code == 200
    html = response.content.decode()
    assert "n&#x27;est pas un PDF, un JPEG ou un PNG" in html or "n'est pas un PDF, un JPEG ou un PNG" in html
    assert not Teledossier.objects.exists() and not Piece.objects.exists() and not mailoutbox


def test_html_renamed_pdf_is_refused(client, mandant_user, commune, scrutin, mailoutbox):
    client.force_login(mandant_user)
    forged = upload("cni.pdf", b"<html><body>%PDF-1.4 fake</body></html>")
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune, piece_identite=forged))
    assert response.status_code == 200
    # Refused for its content, named, and for nothing else: the same form with a real PDF is accepted.
    page = html.unescape(response.content.decode())
    assert "Le fichier « cni.pdf » n'est pas un PDF, un JPEG ou un PNG (son contenu a été vérifié" in page
    assert not Teledossier.objects.exists() and not Piece.objects.exists() and not mailoutbox
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 302 and Teledossier.objects.count() == 1


def test_oversized_piece_is_refused(client, mandant_user, commune, scrutin, settings):
    client.force_login(mandant_user)
    big = upload("cni.pdf", pdf_bytes(size=settings.LISTES_PIECE_MAX_BYTES + 1))
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune, piece_identite=big))
    assert response.status_code == 200
    assert "la taille maximale est de 5 Mo par pièce" in response.content.decode()
    assert not Teledossier.objects.exists() and not Piece.objects.exists()


def test_missing_piece_is_refused(client, mandant_user, commune, scrutin):
    client.force_login(mandant_user)
    data = ile_post_data(commune)
    del data["piece_attache"]
    response = client.post(reverse("listes:usager_ile_new"), data)
    assert response.status_code == 200 and "Joignez ce justificatif" in response.content.decode()
    assert not Teledossier.objects.exists()


def test_pieces_are_reused_from_the_espace(client, mandant_user, commune, scrutin, file_ile):
    first = file_ile()
    identite = first.pieces.get(kind="identite")
    attache = first.pieces.get(kind="attache")
    form = client.get(reverse("listes:usager_ile_new")).content.decode()
    assert "réutiliser une pièce de votre espace" in form
    data = ile_post_data(commune, piece_identite=None, piece_attache=None,
                         piece_identite_existante=identite.pk, piece_attache_existante=attache.pk)
    response = client.post(reverse("listes:usager_ile_new"), data)
    assert response.status_code == 302
    second = Teledossier.objects.exclude(pk=first.pk).get()
    assert set(second.pieces.all()) == {identite, attache}
    assert Piece.objects.count() == 2


def test_another_usagers_piece_cannot_be_reused_or_downloaded(client, mandant_user, mandant_b, commune, scrutin,
                                                              file_ile):
    d = file_ile()
    piece = d.pieces.get(kind="identite")
    client.force_login(mandant_b)
    assert client.get(reverse("listes:usager_piece", args=[piece.pk])).status_code == 404
    assert client.get(reverse("listes:usager_dossier", args=[d.numero])).status_code == 404
    data = ile_post_data(commune, piece_identite=None, piece_identite_existante=piece.pk)
    response = client.post(reverse("listes:usager_ile_new"), data)
    assert response.status_code == 200
    assert Teledossier.objects.count() == 1


def test_usager_downloads_own_piece(client, file_ile):
    d = file_ile()
    piece = d.pieces.get(kind="identite")
    response = client.get(reverse("listes:usager_piece", args=[piece.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


# ------------------------------------------------------------------ ILE deadline


def test_sixth_wednesday_before_the_first_round():
    sunday = datetime.date(2027, 3, 14)
    assert sunday.weekday() == 6
    assert rules.nth_wednesday_before(sunday, 1) == datetime.date(2027, 3, 10)
    assert rules.nth_wednesday_before(sunday, 6) == datetime.date(2027, 2, 3)


def test_ile_deadline_is_midnight_paris_after_the_sixth_wednesday(client, mandant_user, commune, mailoutbox):
    ScrutinFactory(libelle="Municipales 2027", date_tour1=datetime.date(2027, 3, 14), date_tour2=datetime.date(2027, 3, 21))
    url = reverse("listes:usager_ile_new")
    with time_machine.travel(datetime.datetime(2027, 2, 3, 23, 59, 30, tzinfo=PARIS), tick=False):
        client.force_login(mandant_user)  # sessions expire: log in at the travelled time
        assert client.post(url, ile_post_data(commune)).status_code == 302
    assert Teledossier.objects.count() == 1
    with time_machine.travel(datetime.datetime(2027, 2, 4, 0, 0, 0, tzinfo=PARIS), tick=False):
        client.force_login(mandant_user)
        # The deadline is the commune's (its scrutins): the message comes once the commune is chosen.
        response = client.post(url, ile_post_data(commune))
        assert response.status_code == 200
        page = response.content.decode()
        assert "étaient ouvertes jusqu&#x27;au mercredi 3 février 2027 à minuit" in page
        assert "en mairie jusqu&#x27;au vendredi 5 février 2027" in page
    assert Teledossier.objects.count() == 1
    # After the scrutin, the next one (none here) governs: filing reopens.
    with time_machine.travel(datetime.datetime(2027, 3, 22, 9, 0, tzinfo=PARIS), tick=False):
        client.force_login(mandant_user)
        assert client.post(url, ile_post_data(commune)).status_code == 302
    assert Teledossier.objects.count() == 2


# ------------------------------------------------------------------ RCO


def test_rco_filing(client, jeune, commune, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(jeune)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:usager_rco_new"), rco_post_data(commune))
    assert response.status_code == 302
    d = Teledossier.objects.get()
    assert d.demarche == "rco" and d.pere_nom == "Martin" and d.mere_nom == "Durand"
    assert sorted(p.kind for p in d.pieces.all()) == ["identite", "livret"]
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "years, days, ok, message",
    [
        (15, 360, False, "à partir de 16 ans"),
        (16, 0, True, ""),
        (24, 360, True, ""),
        (25, 0, False, "jusqu&#x27;à 25 ans"),
    ],
)
def test_rco_age_window(client, commune, years, days, ok, message):
    today = datetime.date(2026, 6, 15)
    birth = today.replace(year=today.year - years) + datetime.timedelta(days=0)
    if days:
        birth = today.replace(year=today.year - years - 1) + datetime.timedelta(days=365 - days)
    user = UserFactory(username=f"u{years}-{days}", birthdate=birth, gender="F")
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, 0, tzinfo=PARIS), tick=False):
        client.force_login(user)
        response = client.post(reverse("listes:usager_rco_new"), rco_post_data(commune))
    if ok:
        assert response.status_code == 302
    else:
        assert response.status_code == 200 and message in response.content.decode()
        assert not Teledossier.objects.exists()


def test_agents_cannot_file_and_usagers_cannot_enter_the_guichet(client, agent_listes, mandant_user):
    client.force_login(agent_listes)
    assert client.get(reverse("listes:usager_ile_new")).status_code == 403
    client.force_login(mandant_user)
    assert client.get(reverse("listes:home")).status_code == 403


def test_ile_age_18_by_the_first_round(client, commune):
    ScrutinFactory(libelle="Municipales 2027", date_tour1=datetime.date(2027, 3, 14), date_tour2=None)
    url = reverse("listes:usager_ile_new")
    turns_18_before = UserFactory(username="presque", birthdate=datetime.date(2009, 3, 1), gender="M")
    turns_18_after = UserFactory(username="trop-jeune", birthdate=datetime.date(2009, 3, 20), gender="F")
    with time_machine.travel(datetime.datetime(2027, 1, 10, 10, 0, tzinfo=PARIS), tick=False):
        client.force_login(turns_18_before)
        assert client.post(url, ile_post_data(commune)).status_code == 302
        client.force_login(turns_18_after)
        response = client.post(url, ile_post_data(commune))
        assert response.status_code == 200
        assert "18 ans au plus tard le dimanche 14 mars 2027" in response.content.decode()
    assert Teledossier.objects.count() == 1


def test_incomplete_identity_blocks_with_a_message(client, commune, scrutin):
    user = UserFactory(username="sans-date", birthdate=None, gender="")
    client.force_login(user)
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 200 and "identité transmise par FranceConnect est incomplète" in response.content.decode()
    assert not Teledossier.objects.exists()


def test_a_flood_of_teledossiers_by_one_usager_is_capped_per_day(client, mandant_user, mandant_b, commune, scrutin,
                                                                 mailoutbox, settings):
    settings.LISTES_TELEDOSSIERS_PER_DAY = 2
    client.force_login(mandant_user)
    for _ in range(2):
        assert client.post(reverse("listes:usager_ile_new"), ile_post_data(commune)).status_code == 302
    pieces, mails = Piece.objects.count(), len(mailoutbox)
    page = client.get(reverse("listes:usager_ile_new")).content.decode()
    assert "2 télédossiers aujourd&#x27;hui, le maximum par jour" in page
    response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune))
    assert response.status_code == 200
    assert "Vous avez déjà déposé 2 télédossiers aujourd&#x27;hui, le maximum par jour" in response.content.decode()
    assert Teledossier.objects.count() == 2 and Piece.objects.count() == pieces and len(mailoutbox) == mails
    # A dossier filed yesterday does not count, and another usager is not affected.
    Teledossier.objects.filter(usager=mandant_user).update(created_at=timezone.now() - datetime.timedelta(days=1))
    assert client.post(reverse("listes:usager_ile_new"), ile_post_data(commune)).status_code == 302
    Teledossier.objects.filter(usager=mandant_user).update(created_at=timezone.now())
    with pytest.raises(DomainError, match="le maximum par jour"):
        rules.check_teledossiers_today(mandant_user)
    rules.check_teledossiers_today(mandant_b)  # nothing raised
