"""The officer's and the unit's history; unit admins create and disable officers."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from procuration.models import AuditLog, ProcurationEvent, Role, User
from tests.accounts import activation_path, sent_to
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory
from tests.police._helpers import text

HIST = reverse("police:historique")


@pytest.fixture
def acts(commune, policier):
    colleague = UserFactory(username="apj-meme-unite", policier=True, qualite="APJ", last_name="Bernard")
    stranger = UserFactory(username="opj-ailleurs", policier=True, unite="Brigade de Cordes", last_name="Petit")
    refs = {}
    for officer, ref in ((policier, "AAAAA1"), (colleague, "BBBBB2"), (stranger, "CCCCC3")):
        p = ProcurationFactory(en_attente=True, reference=ref, mandant=ElecteurFactory(commune=commune))
        # The first act was 30 days ago (the transition log cannot be back-dated afterwards).
        with time_machine.travel(timezone.now() - datetime.timedelta(days=30 if ref == "AAAAA1" else 0)):
            p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="1234")
        refs[ref] = p
    return refs


def test_history_shows_my_acts_by_default(client, policier, acts):
    client.force_login(policier)
    html = text(client.get(HIST))
    assert "AAAAA1" in html and "BBBBB2" not in html and "CCCCC3" not in html


def test_history_shows_my_units_acts(client, policier, acts):
    client.force_login(policier)
    html = text(client.get(HIST, {"scope": "unite"}))
    assert "AAAAA1" in html and "BBBBB2" in html and "CCCCC3" not in html
    assert "BERNARD" in html


def test_history_is_searchable_by_date(client, policier, acts):
    client.force_login(policier)
    today = timezone.localdate()
    html = text(client.get(HIST, {"scope": "unite", "du": today.isoformat(), "au": today.isoformat()}))
    assert "AAAAA1" not in html and "BBBBB2" in html
    month_ago = today - datetime.timedelta(days=30)
    html = text(client.get(HIST, {"scope": "moi", "du": month_ago.isoformat(), "au": month_ago.isoformat()}))
    assert "AAAAA1" in html
    html = text(client.get(HIST, {"du": today.isoformat(), "au": month_ago.isoformat()}))
    assert "La date de début doit précéder la date de fin." in html and "AAAAA1" not in html


@pytest.fixture
def unit_admin(db):
    return UserFactory(username="chef", policier=True, is_unit_admin=True, last_name="Chef")


def test_unit_admin_creates_an_officer_of_the_unit(client, unit_admin, mailoutbox,
                                                   django_capture_on_commit_callbacks):
    client.force_login(unit_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("police:unite"), {
            "last_name": "Durand", "first_name": "Luc", "qualite": "APJ", "matricule": "7654321",
            "email": "luc.durand@interieur.example",
        }, follow=True)
    officer = User.objects.get(matricule="7654321")
    assert officer.username.startswith("luc.durand.") and officer.username in text(response)
    assert (officer.role, officer.unite, officer.qualite, officer.matricule, officer.is_unit_admin) == (
        Role.POLICIER, "Commissariat central", "APJ", "7654321", False
    )
    assert officer.officer_label == "DURAND Luc, Agent de police judiciaire (Commissariat central)"
    assert AuditLog.objects.filter(action="police.compte_cree", actor=unit_admin, object_id=str(officer.pk)).exists()
    # The admin chose no password and saw none; the officer chooses it through the e-mailed link.
    assert not officer.has_usable_password()
    [mail] = sent_to(mailoutbox, "luc.durand@interieur.example")
    password = "Luc-choisit-le-sien-2026"
    officer_client = Client()
    officer_client.post(activation_path(mail), {"password1": password, "password2": password})
    assert officer_client.login(username=officer.username, password=password)
    # The new officer must set up TOTP before using the counter.
    response = officer_client.get(reverse("police:home"))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_unit_admin_resets_an_officer(client, unit_admin, policier, mailoutbox, django_capture_on_commit_callbacks):
    from allauth.mfa.models import Authenticator

    client.force_login(unit_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("police:unite_reset", args=[policier.pk]), follow=True)
    assert "nouveau lien d'activation est envoyé" in text(response)
    policier.refresh_from_db()
    assert not policier.has_usable_password()
    assert not Authenticator.objects.filter(user=policier).exists()
    assert AuditLog.objects.filter(action="police.compte_reinitialise", object_id=str(policier.pk)).exists()
    assert len(sent_to(mailoutbox, policier.email)) == 1
    # Unit admins (the admin's own account too) are reset by the national administration.
    other_admin = UserFactory(username="chef-2", policier=True, is_unit_admin=True)
    for target in (unit_admin, other_admin):
        response = client.post(reverse("police:unite_reset", args=[target.pk]), follow=True)
        assert "réinitialisé par l'administration nationale" in text(response)
        target.refresh_from_db()
        assert target.has_usable_password()
    outsider = UserFactory(username="opj-ailleurs", policier=True, unite="Brigade de Cordes")
    assert client.post(reverse("police:unite_reset", args=[outsider.pk])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.has_usable_password()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"matricule": "1234567"}, "Un compte existe déjà pour ce matricule."),
        ({"email": ""}, "Ce champ est obligatoire."),
        ({"qualite": "Commissaire"}, "Sélectionnez un choix valide"),
        ({"last_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_unit_admin_form_errors(client, unit_admin, policier, changes, message):
    client.force_login(unit_admin)
    data = {"last_name": "Durand", "first_name": "Luc", "qualite": "APJ", "matricule": "7654321",
            "email": "luc.durand@interieur.example", **changes}
    response = client.post(reverse("police:unite"), data)
    assert response.status_code == 200
    assert message in text(response)
    assert not User.objects.filter(last_name="DURAND").exists()


def test_unit_admin_disables_and_reactivates_an_officer_of_the_unit_only(client, unit_admin, policier):
    outsider = UserFactory(username="opj-ailleurs", policier=True, unite="Brigade de Cordes")
    client.force_login(unit_admin)
    url = reverse("police:unite_activation", args=[policier.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    policier.refresh_from_db()
    assert not policier.is_active
    assert AuditLog.objects.filter(action="police.compte_disable", object_id=str(policier.pk)).exists()
    assert policier.session_generation == 1  # procuration.activation.set_active: its sessions end for good
    assert client.post(url, {"active": "1"}).status_code == 302
    policier.refresh_from_db()
    assert policier.is_active
    assert client.post(reverse("police:unite_activation", args=[outsider.pk]), {"active": "0"}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active


def test_only_unit_admins_manage_accounts(client, policier):
    client.force_login(policier)
    assert client.get(reverse("police:unite")).status_code == 403
    assert client.post(reverse("police:unite_activation", args=[policier.pk]), {"active": "0"}).status_code == 403


def test_allauth_pages_are_dsfr_and_french(client, policier, password):
    html = text(client.get(reverse("account_login")))
    assert "Connexion — espace professionnel" in html and "fr-header" in html
    client.post(reverse("account_login"), {"login": policier.username, "password": "mauvais-mot-de-passe"})
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("account_login"), {"login": policier.username, "password": password}, follow=True)
    assert "Double authentification" in text(response)
    client.force_login(policier)
    assert "Voulez-vous vraiment vous déconnecter ?" in text(client.get(reverse("account_logout")))


def test_history_is_searchable_by_reference(client, policier, acts):
    client.force_login(policier)
    html = text(client.get(HIST, {"scope": "unite", "reference": " bbbbb-2 "}))
    assert "BBBBB2" in html and "AAAAA1" not in html
    html = text(client.get(HIST, {"scope": "unite", "reference": "AB"}))
    assert "La référence d'enregistrement compte 6 caractères" in html and "BBBBB2" not in html


def test_history_is_paginated_beyond_200_acts(client, policier, commune):
    from police.views import HISTORY_PAGE_SIZE

    demandes = ProcurationFactory.create_batch(2 * HISTORY_PAGE_SIZE + 5, en_attente=True,
                                               mandant=ElecteurFactory(commune=commune))
    for p in demandes:  # appended in turn: the first is the oldest act
        ProcurationEvent.append(p, from_status="en_attente", to_status="validee_autorite", actor=policier)
    client.force_login(policier)
    first = text(client.get(HIST))
    assert f"{len(demandes)} actes." in first and "Page 1 sur 3" in first
    last = text(client.get(HIST, {"page": 3}))
    oldest = demandes[0].reference
    assert oldest in last and oldest not in first
    assert last.count('<tr>') - 1 == 5  # header row apart


def test_recepisse_of_my_act_only(client, policier, acts):
    colleague_act = acts["BBBBB2"]
    mine = acts["AAAAA1"]
    client.force_login(policier)
    page = client.get(reverse("police:acte", args=[mine.pk]))
    assert page.status_code == 200 and "Procuration AAAAA1 validée" in text(page)
    pdf = client.get(reverse("police:acte_recepisse", args=[mine.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    import subprocess

    pdf_text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True,
                              check=True).stdout.decode()
    assert "AAAAA1" in pdf_text and mine.mandant.nom.upper() in pdf_text
    assert AuditLog.objects.filter(action="police.recepisse", object_id=str(mine.pk)).exists()
    # A colleague's act, even of the same unit, answers 404 (page and PDF).
    assert client.get(reverse("police:acte", args=[colleague_act.pk])).status_code == 404
    assert client.get(reverse("police:acte_recepisse", args=[colleague_act.pk])).status_code == 404
