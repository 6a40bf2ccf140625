"""Keying in a paper CERFA at the counter: same fields, same checks, origin « CERFA papier », validated."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration import validity
from procuration.exceptions import DomainError
from procuration.models import Electeur, Origine, OutboxEmail, Procuration, ProcurationEvent, Status
from tests.cerfa import assert_mandataire_refused
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.police._helpers import text

URL = reverse("police:cerfa")


@pytest.fixture
def people(commune, other_commune):
    mandant = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", sexe="F",
                              date_naissance=datetime.date(1980, 5, 12), lieu_naissance="Albi")
    mandataire = ElecteurFactory(commune=other_commune, nne="123456789", nom="FAURE", prenoms="Jeanne", sexe="F",
                                 date_naissance=datetime.date(1990, 11, 23))
    return mandant, mandataire


@pytest.fixture
def scrutin(db):
    return ScrutinFactory(libelle="Municipales de démonstration")


@pytest.fixture
def data(people, scrutin):
    return {
        "modele": "14952*03",
        "mandant_nom": "dupont", "mandant_prenoms": "Marie", "mandant_sexe": "F",
        "mandant_date_naissance": "1980-05-12", "mandant_lieu_naissance": "Albi", "mandant_commune": "81005",
        "email_contact": "marie.dupont@example.fr",
        "mandataire_nne": "123 456 789", "mandataire_date_naissance": "1990-11-23",
        "portee": "scrutin", "scrutin": str(scrutin.pk), "tour1": "on", "tour2": "on", "etablissement": "france",
        "piece_type": "cni", "piece_numero_fin": "9876",
    }


@pytest.fixture
def officer_client(client, policier):
    client.force_login(policier)
    return client


def test_paper_cerfa_creates_a_validated_procuration_of_origin_cerfa(
    officer_client, policier, people, scrutin, data, mailoutbox, django_capture_on_commit_callbacks
):
    mandant, mandataire = people
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(URL, data, follow=True)
    p = Procuration.objects.get()
    assert f"Procuration papier enregistrée et validée sous la référence {p.reference}" in text(response)
    assert (p.origine, p.status, p.mandant, p.mandataire, p.commune) == (
        Origine.CERFA_PAPIER, Status.VALIDEE_AUTORITE, mandant, mandataire, mandant.commune
    )
    assert (p.autorite_by, p.piece_type, p.piece_numero_fin) == (policier, "cni", "9876")
    assert (p.valid_from, p.valid_until) == (scrutin.date_tour1, scrutin.date_tour2)
    assert len(p.reference) == 6
    assert list(ProcurationEvent.objects.filter(procuration=p).values_list("from_status", "to_status", "actor")) == [
        ("brouillon", "en_attente", policier.pk), ("en_attente", "validee_autorite", policier.pk)
    ]
    # Only the « validée » e-mail, naming the officer (no « présentez-vous au guichet » e-mail).
    assert [m.to for m in mailoutbox] == [["marie.dupont@example.fr"]]
    assert "MARTIN Julie, Officier de police judiciaire" in mailoutbox[0].body
    # It is in the officer's history.
    assert p.reference in text(officer_client.get(reverse("police:historique")))


def test_paper_cerfa_mandataire_by_etat_civil_and_duree(officer_client, people, data):
    start = timezone.localdate() + datetime.timedelta(days=3)
    data.update({
        "mandataire_nne": "", "mandataire_nom": "Faure", "mandataire_prenoms": "Jeanne", "mandataire_sexe": "F",
        "mandataire_commune": "38214", "portee": "duree", "scrutin": "", "tour1": "", "tour2": "",
        "valid_from": start.isoformat(), "valid_until": (start + datetime.timedelta(days=300)).isoformat(),
        "email_contact": "",
    })
    response = officer_client.post(URL, data)
    assert response.status_code == 302
    p = Procuration.objects.get()
    assert (p.mandataire, p.portee, p.valid_from, p.origine) == (people[1], "duree", start, Origine.CERFA_PAPIER)
    assert not OutboxEmail.objects.exists()  # no address on the form: no e-mail


def test_mandataire_is_emailed_when_the_paper_cerfa_establishes_the_procuration(
    officer_client, people, data, mailoutbox, django_capture_on_commit_callbacks
):
    """Mandataire notice: the CERFA's optional address of the mandataire, keyed in, is told at once."""
    data["email_mandataire"] = "jeanne.faure@example.fr"
    with django_capture_on_commit_callbacks(execute=True):
        assert officer_client.post(URL, data).status_code == 302
    p = Procuration.objects.get()
    assert p.email_mandataire == "jeanne.faure@example.fr"
    [notice] = [m for m in mailoutbox if m.to == ["jeanne.faure@example.fr"]]
    assert notice.subject == "Une procuration vous est confiée" and "Marie Claire DUPONT" in notice.body


def _days(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mandant_nom": "DURAND"}, "Le mandant n'a pas été trouvé, ou pas de façon unique, sur la liste électorale de cette commune"),
        ({"mandant_commune": "38214"}, "Le mandant n'a pas été trouvé"),
        ({"mandant_nne": "12345"}, "Le numéro national d'électeur compte 8 ou 9 chiffres"),
        ({"mandataire_nne": "999999999"}, "Aucun électeur inscrit ne correspond à ce numéro et à cette date de naissance."),
        ({"mandataire_date_naissance": "1991-11-23"}, "Aucun électeur inscrit ne correspond à ce numéro et à cette date de naissance."),
        ({"mandataire_nne": ""}, "Sans numéro national d'électeur, ce champ est obligatoire."),
        ({"mandataire_nne": "", "mandataire_nom": "Inconnu", "mandataire_prenoms": "Jeanne", "mandataire_sexe": "F",
          "mandataire_commune": "38214"}, "Le mandataire n'a pas été trouvé"),
        ({"scrutin": ""}, "Choisissez le scrutin pour lequel la procuration est donnée."),
        ({"tour1": "", "tour2": ""}, "Cochez au moins un tour."),
        ({"portee": "duree", "valid_from": _days(2), "valid_until": _days(400)}, "Une procuration établie en France vaut au plus un an"),
        ({"portee": "duree", "valid_from": _days(-2), "valid_until": _days(20)}, "La date de début ne peut pas être déjà passée."),
        ({"portee": "duree", "valid_from": _days(20), "valid_until": _days(2)}, "La date de fin doit être postérieure à la date de début."),
        ({"piece_numero_fin": ""}, "Saisissez les 4 derniers caractères du numéro de la pièce présentée."),
        ({"mandant_date_naissance": "12/05/1980x"}, "Saisissez une date valide."),
        ({"email_mandataire": "jeanne.faure@"},
         "Saisissez une adresse électronique valide pour le mandataire, par exemple nom@exemple.fr"),
    ],
)
def test_paper_cerfa_errors_create_nothing(officer_client, data, changes, message):
    data.update(changes)
    response = officer_client.post(URL, data)
    assert response.status_code == 200
    assert message in text(response)
    assert not Procuration.objects.exists()
    assert not OutboxEmail.objects.exists()


def test_paper_cerfa_same_person_is_refused_on_the_mandataire_field(officer_client, people, data):
    mandant = people[0]
    data.update({"mandataire_nne": mandant.nne, "mandataire_date_naissance": "1980-05-12"})
    assert_mandataire_refused(officer_client.post(URL, data), "mandataire_nne",
                               "Le mandataire doit être une autre personne que le mandant.")
    data.update({"mandataire_nne": "", "mandataire_nom": "Dupont", "mandataire_prenoms": "Marie", "mandataire_sexe": "F",
                 "mandataire_commune": "81005"})
    assert_mandataire_refused(officer_client.post(URL, data), "mandataire_nom",
                               "Le mandataire doit être une autre personne que le mandant.")


@pytest.mark.parametrize("unable", [{"deces": True}, {"droits_civiques": False}])
def test_paper_cerfa_mandataire_who_cannot_vote_is_refused_on_the_mandataire_field(
    officer_client, people, data, unable
):
    Electeur.objects.filter(pk=people[1].pk).update(**unable)  # still on a list: found, but cannot vote
    message = "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter."
    assert_mandataire_refused(officer_client.post(URL, data), "mandataire_nne", message)
    data.update({"mandataire_nne": "", "mandataire_nom": "Faure", "mandataire_prenoms": "Jeanne",
                 "mandataire_sexe": "F", "mandataire_commune": "38214"})
    assert_mandataire_refused(officer_client.post(URL, data), "mandataire_nom", message)


def test_paper_cerfa_runs_the_same_domain_checks_plafond(officer_client, people, scrutin, data, commune):
    mandant, mandataire = people
    ProcurationFactory(validee_autorite=True, mandataire=mandataire, scrutin=scrutin, mandant=ElecteurFactory(commune=commune))
    response = officer_client.post(URL, data)
    assert response.status_code == 200
    assert "Le mandataire détient déjà une procuration établie en France" in text(response)
    assert Procuration.objects.count() == 1  # only the earlier one: the transaction left nothing
    assert not ProcurationEvent.objects.exists()


def test_paper_cerfa_form_renders(officer_client):
    html = text(officer_client.get(URL))
    assert "CERFA n°14952*03" in html and "CERFA n°12668*03" in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_paper_cerfa_page_in_chromium(live_server, page, client, policier, people, scrutin):
    import os

    client.force_login(policier)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    page.goto(live_server.url + URL)
    page.get_by_label("Nom de naissance du mandant").fill("Dupont")
    page.get_by_label("Prénoms du mandant").fill("Marie Claire")
    page.get_by_text("Féminin").first.check()
    page.get_by_label("Date de naissance du mandant").fill("1980-05-12")
    page.get_by_label("Lieu de naissance du mandant").fill("Albi")
    page.get_by_label("Commune d'inscription du mandant (code INSEE)").fill("81005")
    page.get_by_label("Numéro national d'électeur du mandataire").fill("123456789")
    page.get_by_label("Date de naissance du mandataire").fill("1990-11-23")
    page.get_by_label("Scrutin", exact=True).select_option(str(scrutin.pk))
    page.locator("label[for=id_tour1]").click()  # DSFR draws the box on the label
    page.get_by_label("Pièce d'identité présentée").select_option("cni")
    page.get_by_label("Fin du numéro de la pièce").fill("9876")
    page.screenshot(path=os.path.join(os.environ.get("SCREENSHOT_DIR", "/tmp"), "police-cerfa.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer et valider la procuration").click()
    p = Procuration.objects.get()
    assert f"référence {p.reference}" in page.locator("[role=status]").inner_text()
    assert (p.origine, p.status, p.tour1, p.tour2) == (Origine.CERFA_PAPIER, Status.VALIDEE_AUTORITE, True, False)


def test_paper_cerfa_keeps_dates_after_an_error(officer_client, data):
    data["mandant_nom"] = "DURAND"
    html = text(officer_client.post(URL, data))
    assert 'value="1980-05-12"' in html and 'value="1990-11-23"' in html


@pytest.mark.parametrize("etablissement", ["france", "etranger"])
def test_paper_cerfa_validity_error_is_the_domains_on_its_field(officer_client, data, etablissement):
    start = timezone.localdate() + datetime.timedelta(days=2)
    end = validity.add_years(start, 1 if etablissement == "france" else 3) + datetime.timedelta(days=1)
    data.update(portee="duree", valid_from=start.isoformat(), valid_until=end.isoformat(), etablissement=etablissement)
    response = officer_client.post(URL, data)
    with pytest.raises(DomainError) as excinfo:
        validity.periode(portee="duree", valid_from=start, valid_until=end, etablissement=etablissement)
    assert response.context["form"].errors["valid_until"] == [excinfo.value.message]
    assert not Procuration.objects.exists()


def test_paper_cerfa_logs_both_steps_with_the_officer(officer_client, data, policier):
    officer_client.post(URL, data)
    p = Procuration.objects.get()
    assert [(e.from_status, e.to_status, e.actor) for e in p.events.all()] == [
        (Status.BROUILLON, Status.EN_ATTENTE, policier), (Status.EN_ATTENTE, Status.VALIDEE_AUTORITE, policier),
    ]
    assert list(p.emails.values_list("kind", flat=True)) == ["validated_by_authority"]
