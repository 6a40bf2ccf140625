"""Mandataire notice, on the mandant's side and the mandataire's: the optional « Adresse électronique du
mandataire » of the online demande (checked at its field, shown in the récapitulatif, stored), and the
mandataire's espace after a FranceConnect login (« Procurations qui me sont confiées »)."""

import datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration.models import OutboxEmail, Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.mandant.conftest import oidc_login
from tests.mandant.test_demande import assert_field_error, assert_nothing_saved, post_mandataire, post_validite


@pytest.fixture
def logged(client, mandant_user):
    client.force_login(mandant_user)
    return client


# ------------------------------------------------------------------ the demande's optional field


def test_mandataire_email_is_asked_checked_shown_in_the_recapitulatif_and_stored(
    logged, scrutin, mandataire, policier, mailoutbox, django_capture_on_commit_callbacks
):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03",
                               email_mandataire="paul.lambert@example.fr")
    assert response["Location"] == reverse("mandant:demande_recapitulatif")
    recap = unescape(logged.get(reverse("mandant:demande_recapitulatif")).content.decode())
    assert "Informé(e) par courriel à paul.lambert@example.fr" in recap
    with django_capture_on_commit_callbacks(execute=True):
        logged.post(reverse("mandant:demande_recapitulatif"), {"email_contact": "marie@example.fr", "attestation": "on"})
    p = Procuration.objects.get()
    assert p.email_mandataire == "paul.lambert@example.fr"
    # Submitted only: nothing is established yet, the mandataire is not told.
    assert [m.to for m in mailoutbox] == [["marie@example.fr"]]
    with django_capture_on_commit_callbacks(execute=True):
        p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
    assert [m.subject for m in mailoutbox if m.to == ["paul.lambert@example.fr"]] == ["Une procuration vous est confiée"]
    detail = unescape(logged.get(reverse("mandant:detail", args=[p.pk])).content.decode())
    assert "paul.lambert@example.fr" in detail


def test_mandataire_email_is_optional(logged, scrutin, mandataire, django_capture_on_commit_callbacks):
    post_validite(logged, scrutin)
    assert post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03").status_code == 302
    recap = unescape(logged.get(reverse("mandant:demande_recapitulatif")).content.decode())
    assert "votre mandataire verra la procuration en se connectant avec FranceConnect" in recap
    with django_capture_on_commit_callbacks(execute=True):
        logged.post(reverse("mandant:demande_recapitulatif"), {"email_contact": "marie@example.fr", "attestation": "on"})
    assert Procuration.objects.get().email_mandataire == ""


def test_a_bad_mandataire_email_gets_a_french_message_at_its_field_and_nothing_changes(logged, scrutin, mandataire):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03",
                               email_mandataire="paul.lambert@")
    assert_field_error(response, "email_mandataire",
                       "Saisissez une adresse électronique valide pour le mandataire, par exemple nom@exemple.fr")
    assert "mandataire" not in logged.session.get("mandant_demande", {})
    assert_nothing_saved()


# ------------------------------------------------------------------ the mandataire's espace


@pytest.fixture
def confiees(commune, mandant_electeur):
    """Procurations where Marie (mandant_electeur) is the mandataire, at every stage, and one of someone else."""
    almayrac = commune
    now = timezone.now()
    scrutin = ScrutinFactory(libelle="Municipales")

    def given(nom, **kw):
        return ProcurationFactory(mandant=ElecteurFactory(commune=almayrac, nom=nom, prenoms="Jeanne"),
                                  mandataire=mandant_electeur, scrutin=scrutin, **kw)

    return {
        "en_vigueur": given("FAURE", validee_mairie=True),
        "attend_la_mairie": given("ROUX", validee_autorite=True, tour1=False),
        "en_attente": given("PENDING", en_attente=True),  # not established: not theirs yet
        "retiree": given("RETIREE", en_attente=True, status=Status.RESILIEE, ended_at=now),  # never established
        "resiliee": given("BLANC", validee_mairie=True, status=Status.RESILIEE, ended_at=now - datetime.timedelta(days=3)),
        "ancienne": given("VIEILLE", validee_mairie=True, status=Status.ECHUE,
                          ended_at=now - datetime.timedelta(days=200)),
        "autre": ProcurationFactory(validee_mairie=True, mandant=ElecteurFactory(nom="AUTRE", commune=almayrac)),
    }


def test_mandataire_sees_the_procurations_given_to_them_after_a_franceconnect_login(
    client, oidc_provider, mandant_electeur, confiees
):
    home = oidc_login(client, "franceconnect", "fc-marie")
    home_html = unescape(home.content.decode())
    assert "2 procurations en vigueur vous sont confiées" in home_html
    assert reverse("mandant:confiees") in home_html
    html = unescape(client.get(reverse("mandant:confiees")).content.decode())
    en_vigueur = html.split('id="confiees-en-vigueur"')[1].split("</table>")[0]
    assert "Jeanne FAURE" in en_vigueur and "Jeanne ROUX" in en_vigueur
    assert "Almayrac — Bureau n° 1 — Bureau 1" in en_vigueur and "Municipales" in en_vigueur
    assert "Validée par la mairie" in en_vigueur and "Validée par l'autorité" in en_vigueur
    terminees = html.split('id="confiees-terminees"')[1].split("</table>")[0]
    assert "Jeanne BLANC" in terminees and "Résiliée" in terminees
    for absent in ("PENDING", "RETIREE", "VIEILLE", "AUTRE"):
        assert absent not in html, absent
    for p in (confiees["en_vigueur"], confiees["resiliee"]):
        assert p.reference not in html  # the mandant's reference is not the mandataire's to know
    detail = unescape(client.get(reverse("mandant:confiee", args=[confiees["en_vigueur"].pk])).content.decode())
    assert "Procuration de Jeanne FAURE" in detail and "Bureau n° 1" in detail and "mairie d'Almayrac" in detail
    assert "Municipales" in detail


def test_another_electors_procuration_answers_404_to_the_mandataire(
    logged, mandant_user, mandant_electeur, mandant_b, confiees, client
):
    for key in ("autre", "en_attente", "retiree", "ancienne"):
        assert logged.get(reverse("mandant:confiee", args=[confiees[key].pk])).status_code == 404, key
    assert logged.get(reverse("mandant:confiee", args=[confiees["en_vigueur"].pk])).status_code == 200
    # Marie's own procuration (she is its mandant) is under « Mes procurations », not here.
    own = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, mandant_user=mandant_user)
    assert logged.get(reverse("mandant:confiee", args=[own.pk])).status_code == 404
    client.force_login(mandant_b)  # not in the register: nothing is theirs
    assert client.get(reverse("mandant:confiee", args=[confiees["en_vigueur"].pk])).status_code == 404
    page = unescape(client.get(reverse("mandant:confiees")).content.decode())
    assert "Nous ne vous trouvons pas sur les listes électorales" in page and "FAURE" not in page


def test_mandataire_espace_is_for_electors_only(client, policier, confiees):
    url = reverse("mandant:confiees")
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mandant:login"))
    client.force_login(policier)
    assert client.get(url).status_code == 403


def test_mandataire_espace_takes_a_constant_number_of_queries(
    logged, mandant_electeur, confiees, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as few:
        logged.get(reverse("mandant:confiees"))
    for _ in range(5):
        ProcurationFactory(validee_mairie=True, mandataire=mandant_electeur)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = logged.get(reverse("mandant:confiees")).content.decode()
    assert html.count('href="/mandant/confiees/') == 8


def test_home_links_to_the_procurations_given_to_the_mandataire(logged, confiees):
    html = unescape(logged.get(reverse("mandant:home")).content.decode())
    assert 'id="lien-confiees"' in html and "2 procurations en vigueur vous sont confiées" in html
    assert OutboxEmail.objects.count() == 0
