"""The demande in three steps, its live checks and every bad input (French message at the field,
nothing saved)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from procuration import identity
from procuration.models import OutboxEmail, Procuration, Status
from procuration.models.procuration import Origine
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

TODAY = timezone.localdate


@pytest.fixture
def logged(client, mandant_user):
    client.force_login(mandant_user)
    return client


def post_validite(client, scrutin, **extra):
    data = {"portee": "scrutin", "scrutin": scrutin.pk, "tour1": "on", "tour2": "on", "etablissement": "france"}
    data.update(extra)
    return client.post(reverse("mandant:demande_validite"), {k: v for k, v in data.items() if v is not None})


def post_mandataire(client, **data):
    return client.post(reverse("mandant:demande_mandataire"), data)


def assert_field_error(response, field, text):
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert any(text in e for e in errors[field]), errors[field]
    assert escape(text) in response.content.decode()


def assert_nothing_saved():
    assert Procuration.objects.count() == 0
    assert OutboxEmail.objects.count() == 0


def test_demande_franceconnect_gives_reference_on_screen_and_by_email(
    logged, scrutin, mandataire, mailoutbox, django_capture_on_commit_callbacks
):
    assert logged.get(reverse("mandant:demande"), follow=True).status_code == 200
    assert post_validite(logged, scrutin)["Location"] == reverse("mandant:demande_mandataire")
    live = logged.get(reverse("mandant:verifier_mandataire"),
                      {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-03"})
    assert "Mandataire trouvé" in live.content.decode() and "Plafond du mandataire : Conforme" in live.content.decode()
    response = post_mandataire(logged, mode="nne", nne="123 456 789", date_naissance_nne="1975-02-03")
    assert response["Location"] == reverse("mandant:demande_recapitulatif")
    recap = logged.get(reverse("mandant:demande_recapitulatif")).content.decode()
    assert "Paul LAMBERT" in recap and "Municipales de test" in recap
    assert Procuration.objects.count() == 0  # nothing written before the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        response = logged.post(reverse("mandant:demande_recapitulatif"),
                               {"email_contact": "marie@example.fr", "attestation": "on"}, follow=True)
    p = Procuration.objects.get()
    assert p.status == Status.EN_ATTENTE and p.mandataire == mandataire and p.tour1 and p.tour2
    assert (p.valid_from, p.valid_until) == (scrutin.date_tour1, scrutin.date_tour2)
    html = response.content.decode()
    assert p.reference in html and "commissariat" in html and "deux mois" in html
    assert len(mailoutbox) == 1 and p.reference in mailoutbox[0].subject and p.reference in mailoutbox[0].body
    assert mailoutbox[0].to == ["marie@example.fr"]


def test_demande_by_etat_civil_for_a_duree(logged, mandataire, django_capture_on_commit_callbacks):
    start = TODAY() + datetime.timedelta(days=3)
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": start.isoformat(),
        "valid_until": (start + datetime.timedelta(days=200)).isoformat(), "etablissement": "france"})
    assert response.status_code == 302
    response = post_mandataire(logged, mode="etat_civil", nom="lambért", prenoms="paul", sexe="M",
                               date_naissance="1975-02-03", commune="almayrac")
    assert response.status_code == 302, response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        logged.post(reverse("mandant:demande_recapitulatif"), {"email_contact": "m@example.fr", "attestation": "on"})
    p = Procuration.objects.get()
    assert p.portee == "duree" and p.scrutin is None and p.status == Status.EN_ATTENTE


def test_france_identite_demande_is_validated_at_once(
    client, oidc_provider, mandant_electeur, scrutin, mandataire, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.mandant.conftest import oidc_login

    oidc_login(client, "franceidentite", "fc-marie")
    post_validite(client, scrutin)
    post_mandataire(client, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    assert "sans passage au commissariat" in client.get(reverse("mandant:demande_recapitulatif")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mandant:demande_recapitulatif"),
                               {"email_contact": "marie@example.fr", "attestation": "on"}, follow=True)
    p = Procuration.objects.get()
    assert p.status == Status.VALIDEE_AUTORITE and p.origine == Origine.FRANCE_IDENTITE
    assert p.autorite_by is None and "France Identité" in p.autorite_label
    html = response.content.decode()
    assert "Procuration validée grâce à France Identité" in html
    assert "vous n'avez pas à vous rendre au commissariat" in html
    # Two e-mails: the reference, then the validation.
    assert len(mailoutbox) == 2 and all(p.reference in m.body for m in mailoutbox)


# ------------------------------------------------------------------ bad input


def test_invalid_nne(logged, scrutin, mandataire):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne="12AB56", date_naissance_nne="1975-02-03")
    assert_field_error(response, "nne", "8 ou 9 chiffres")
    assert_nothing_saved()


def test_unknown_mandataire_by_nne(logged, scrutin, mandataire):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-04")
    assert_field_error(response, "nne", "Aucun électeur ne correspond à ce numéro")
    live = logged.get(reverse("mandant:verifier_mandataire"),
                      {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-04"}).content.decode()
    assert "Aucun électeur ne correspond à ce numéro" in live
    assert_nothing_saved()


def test_unknown_mandataire_by_etat_civil(logged, scrutin, mandataire):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="etat_civil", nom="Lambert", prenoms="Pierre", sexe="M",
                               date_naissance="1975-02-03", commune="81005")
    assert_field_error(response, "nom", "Aucun électeur inscrit à Almayrac ne correspond")
    response = post_mandataire(logged, mode="etat_civil", nom="Lambert", prenoms="Paul", sexe="M",
                               date_naissance="1975-02-03", commune="Nulle-Part")
    assert_field_error(response, "commune", "Commune « Nulle-Part » inconnue")
    assert_nothing_saved()


def test_mandant_cannot_be_own_mandataire(logged, scrutin, mandant_electeur):
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne=mandant_electeur.nne, date_naissance_nne="1980-05-12")
    assert_field_error(response, "nne", "Le mandataire doit être une autre personne que le mandant.")
    assert_nothing_saved()


@pytest.mark.parametrize("unable", [{"deces": True}, {"droits_civiques": False}])
def test_a_mandataire_who_cannot_vote_is_refused_on_the_field_that_found_them(logged, scrutin, commune, unable):
    """On a list but deceased or deprived of civic rights: the domain's rule (checks.raise_for_mandataire),
    on the NNE field or on the nom, whichever way the mandataire was named; the live check says the same."""
    ElecteurFactory(nne="987654321", nom="ROUX", prenoms="Léa", sexe="F", date_naissance=datetime.date(1970, 1, 2),
                    commune=commune, **unable)
    message = "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter."
    post_validite(logged, scrutin)
    by_nne = {"mode": "nne", "nne": "987654321", "date_naissance_nne": "1970-01-02"}
    assert_field_error(post_mandataire(logged, **by_nne), "nne", message)
    assert escape(message) in logged.get(reverse("mandant:verifier_mandataire"), by_nne).content.decode()
    response = post_mandataire(logged, mode="etat_civil", nom="Roux", prenoms="Léa", sexe="F",
                               date_naissance="1970-01-02", commune="81005")
    assert_field_error(response, "nom", message)
    assert "mandataire" not in logged.session.get(identity.DEMANDE_SESSION_KEY, {})  # the step did not pass
    assert_nothing_saved()


def test_duree_dates_out_of_range(logged):
    start = TODAY() + datetime.timedelta(days=2)
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": start.isoformat(),
        "valid_until": (start + datetime.timedelta(days=400)).isoformat(), "etablissement": "france"})
    assert_field_error(response, "valid_until", "au plus un an")
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        "valid_until": start.isoformat(), "etablissement": "france"})
    assert_field_error(response, "valid_from", "ne peut pas être déjà passée")
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": start.isoformat(),
        "valid_until": (start - datetime.timedelta(days=1)).isoformat(), "etablissement": "france"})
    assert_field_error(response, "valid_until", "postérieure à la date de début")
    # Abroad, up to three years is accepted.
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": start.isoformat(),
        "valid_until": (start + datetime.timedelta(days=400)).isoformat(), "etablissement": "etranger"})
    assert response.status_code == 302
    assert_nothing_saved()


def test_scrutin_already_past(logged):
    past = ScrutinFactory(libelle="Ancien scrutin", date_tour1=TODAY() - datetime.timedelta(days=30),
                          date_tour2=TODAY() - datetime.timedelta(days=23))
    page = logged.get(reverse("mandant:demande_validite")).content.decode()
    assert "Ancien scrutin" not in page  # not offered
    response = post_validite(logged, past)
    assert_field_error(response, "scrutin", "Ce scrutin est déjà passé")
    assert_nothing_saved()


def test_second_demande_for_the_same_tour(logged, scrutin, mandant_electeur, mandataire):
    first = ProcurationFactory(en_attente=True, mandant=mandant_electeur, scrutin=scrutin, tour1=True, tour2=False,
                               valid_until=scrutin.date_tour1)
    response = post_validite(logged, scrutin, tour2=None)
    assert_field_error(response, "tour1", f"Vous avez déjà une procuration en cours pour ces dates (référence {first.reference}")
    assert Procuration.objects.count() == 1
    # Another mandataire for the other tour is allowed.
    assert post_validite(logged, scrutin, tour1=None).status_code == 302


def test_duplicate_appearing_before_confirmation_is_refused_and_nothing_saved(
    logged, scrutin, mandant_electeur, mandataire, django_capture_on_commit_callbacks
):
    post_validite(logged, scrutin)
    post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    # Meanwhile another demande for the same scrutin was made (e.g. in another tab).
    ProcurationFactory(en_attente=True, mandant=mandant_electeur, scrutin=scrutin)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged.post(reverse("mandant:demande_recapitulatif"),
                               {"email_contact": "marie@example.fr", "attestation": "on"})
    assert response.status_code == 200
    assert "Le mandant a déjà une procuration pour ces dates" in response.content.decode()
    assert 'id="error-validite"' in response.content.decode()
    assert Procuration.objects.count() == 1
    assert OutboxEmail.objects.count() == 0


def test_plafond_is_checked_at_the_mandataire_field(logged, scrutin, mandataire):
    ProcurationFactory(validee_autorite=True, mandataire=mandataire, scrutin=scrutin)
    post_validite(logged, scrutin)
    response = post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    assert_field_error(response, "nne", "détient déjà une procuration établie en France")
    assert Procuration.objects.count() == 1


def test_recap_requires_email_and_attestation(logged, scrutin, mandataire):
    post_validite(logged, scrutin)
    post_mandataire(logged, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    response = logged.post(reverse("mandant:demande_recapitulatif"), {"email_contact": "pas-une-adresse"})
    assert_field_error(response, "email_contact", "Saisissez une adresse électronique valide")
    assert_field_error(response, "attestation", "Cochez l'attestation sur l'honneur")
    assert_nothing_saved()


def test_steps_need_the_previous_ones(logged, mandant_electeur):
    assert logged.get(reverse("mandant:demande_mandataire"))["Location"] == reverse("mandant:demande_validite")
    assert logged.get(reverse("mandant:demande_recapitulatif"))["Location"] == reverse("mandant:demande_validite")


def test_mandataire_lookups_are_rate_limited(logged, scrutin, mandataire, settings):
    settings.MANDANT_LOOKUPS_PER_WINDOW = 2
    post_validite(logged, scrutin)
    query = {"mode": "nne", "nne": "123456789", "date_naissance_nne": "1975-02-03"}
    for _ in range(2):
        assert "Mandataire trouvé" in logged.get(reverse("mandant:verifier_mandataire"), query).content.decode()
    assert "Trop de recherches" in logged.get(reverse("mandant:verifier_mandataire"), query).content.decode()
    response = post_mandataire(logged, **query)
    assert response.status_code == 200 and "Trop de recherches" in response.content.decode()


def test_france_identite_login_then_demande_skips_the_police_step(
    client, oidc_provider, mandant_electeur, scrutin, mandataire, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.mandant.conftest import oidc_login

    oidc_login(client, "franceidentite", "fc-marie")
    post_validite(client, scrutin)
    post_mandataire(client, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mandant:demande_recapitulatif"),
                               {"email_contact": "marie.fc@example.fr", "attestation": "on"}, follow=True)
    p = Procuration.objects.get()
    assert p.status == Status.VALIDEE_AUTORITE and p.origine == Origine.FRANCE_IDENTITE
    assert p.mandant_user.socialaccount_set.get().provider == "franceidentite"
    assert "Procuration validée grâce à France Identité" in response.content.decode()
    assert len(mailoutbox) == 2


@pytest.mark.parametrize("etablissement", ["france", "etranger"])
def test_validity_error_is_the_domains_on_its_field(logged, mandant_electeur, etablissement):
    from procuration import validity
    from procuration.exceptions import DomainError

    start = TODAY() + datetime.timedelta(days=2)
    end = validity.add_years(start, 1 if etablissement == "france" else 3) + datetime.timedelta(days=1)
    response = logged.post(reverse("mandant:demande_validite"), {
        "portee": "duree", "valid_from": start.isoformat(), "valid_until": end.isoformat(), "etablissement": etablissement})
    with pytest.raises(DomainError) as excinfo:
        validity.periode(portee="duree", valid_from=start, valid_until=end, etablissement=etablissement)
    assert response.context["form"].errors["valid_until"] == [excinfo.value.message]
    assert_nothing_saved()
