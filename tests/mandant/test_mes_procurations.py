"""Mes procurations: list, detail with history and decisions, récépissé, résiliation, procurations
reçues, and isolation between mandants."""

import datetime
import subprocess
import zoneinfo
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from procuration.models import Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory


@pytest.fixture
def own(mandant_user, mandant_electeur, agent_mairie, policier, django_capture_on_commit_callbacks):
    """A procuration of mandant_user, submitted, validated by an officer and by the mairie."""
    p = ProcurationFactory(mandant=mandant_electeur, mandant_user=mandant_user, email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        p.soumettre(by=mandant_user)
        p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="1234")
        p.valider_mairie(by=agent_mairie)
    return p


def test_list_and_detail_show_status_history_officer_and_mairie(client, mandant_user, own):
    client.force_login(mandant_user)
    home = client.get(reverse("mandant:home")).content.decode()
    assert own.reference in home and "Validée par la mairie" in home
    html = client.get(reverse("mandant:detail", args=[own.pk])).content.decode()
    assert "Validée le" in html and "MARTIN Julie, Officier de police judiciaire" in html
    assert "par la mairie d'Almayrac" in unescape(html)
    for label in ("Brouillon → En attente de validation", "En attente de validation → Validée par l&#x27;autorité",
                  "Validée par l&#x27;autorité → Validée par la mairie"):
        assert label in html


def test_recepisse_pdf(client, mandant_user, own, tmp_path):
    client.force_login(mandant_user)
    response = client.get(reverse("mandant:recepisse", args=[own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert own.reference in text


def test_online_resiliation_without_certified_identity_is_only_a_request(
    client, mandant_user, own, mailoutbox, django_capture_on_commit_callbacks
):
    """L.75: a FranceConnect login does not check the identity: the procuration stays in force until
    the counter (or France Identité) checks it; the mandant is told where to go."""
    client.force_login(mandant_user)
    page = client.get(reverse("mandant:resilier", args=[own.pk])).content.decode()
    assert "Confirmer la résiliation" in page and "vérification de votre identité" in page
    own.refresh_from_db()
    assert own.status == Status.VALIDEE_MAIRIE  # GET only asks
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mandant:resilier", args=[own.pk]), follow=True)
    own.refresh_from_db()
    assert own.status == Status.VALIDEE_MAIRIE and own.resiliation_en_attente
    html = response.content.decode()
    assert "demande de résiliation est enregistrée" in html and 'id="resiliation-demandee"' in html
    assert own.reference in html and not mailoutbox


def test_withdrawing_a_pending_demande_online(client, mandant_user, mandant_electeur, mailoutbox,
                                              django_capture_on_commit_callbacks):
    p = ProcurationFactory(en_attente=True, mandant=mandant_electeur, mandant_user=mandant_user,
                           email_contact="marie@example.fr")
    client.force_login(mandant_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mandant:resilier", args=[p.pk]), follow=True)
    p.refresh_from_db()
    assert p.status == Status.RESILIEE
    assert "est résiliée" in response.content.decode()
    assert len(mailoutbox) == 1 and p.reference in mailoutbox[0].body
    assert 'id="resilier"' not in response.content.decode()  # no second résiliation offered


def test_procurations_recues(client, mandant_user, mandant_electeur):
    other = ElecteurFactory(nom="FAURE", prenoms="Jeanne")
    ProcurationFactory(validee_mairie=True, mandant=other, mandataire=mandant_electeur)
    ProcurationFactory(en_attente=True, mandant=ElecteurFactory(nom="PENDING"), mandataire=mandant_electeur)
    client.force_login(mandant_user)
    html = client.get(reverse("mandant:home")).content.decode()
    assert "Une procuration en vigueur vous est confiée" in html and 'id="lien-confiees"' in html
    recues = client.get(reverse("mandant:confiees")).content.decode().split('id="confiees-en-vigueur"')[1]
    assert "Jeanne FAURE" in recues and "PENDING" not in recues


def test_one_mandant_cannot_see_another_ones_procuration(client, mandant_b, own):
    client.force_login(mandant_b)
    for name in ("detail", "confirmation", "recepisse", "resilier"):
        assert client.get(reverse(f"mandant:{name}", args=[own.pk])).status_code == 404, name
    assert client.post(reverse("mandant:resilier", args=[own.pk])).status_code == 404
    own.refresh_from_db()
    assert own.status == Status.VALIDEE_MAIRIE
    assert own.reference not in client.get(reverse("mandant:home")).content.decode()


def test_other_roles_and_anonymous_are_kept_out(client, policier, own):
    response = client.get(reverse("mandant:detail", args=[own.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mandant:login"))
    client.force_login(policier)
    assert client.get(reverse("mandant:detail", args=[own.pk])).status_code == 403


def test_a_void_procuration_shows_annulee_its_motif_and_what_to_do(client, mandant_user, own):
    """Death of the mandataire (an event of the register): the mandant's list and page say « Annulée »,
    why, and that another mandataire may be chosen."""
    from procuration.registry import RadiationMotif, radier_electeur

    radier_electeur(own.mandataire, RadiationMotif.DECES)
    client.force_login(mandant_user)
    assert "Annulée" in client.get(reverse("mandant:home")).content.decode()
    page = unescape(client.get(reverse("mandant:detail", args=[own.pk])).content.decode())
    assert "Cette procuration est nulle" in page and "Motif : Décès du mandataire" in page
    assert "Choisissez un autre mandataire" in page and reverse("mandant:demande") in page
    assert "Validée par la mairie → Annulée" in page
    assert 'id="resilier"' not in page  # nothing left to revoke


def test_the_mandataire_sees_an_ended_procuration_for_90_days_to_the_second(db, mandant_electeur):
    """The mandataire's espace keeps a procuration that ended after being established for 90 days
    (MANDATAIRE_SEES_ENDED_DAYS), to the second: ended on 3 July 2027 at 10:00, it is still there on
    1 October at 10:00 and gone one second later; one that was never established is never there."""
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    ended = datetime.datetime(2027, 7, 3, 10, 0, tzinfo=paris)
    resiliee = ProcurationFactory(validee_autorite=True, status=Status.RESILIEE, mandataire=mandant_electeur,
                                  ended_at=ended)
    ProcurationFactory(en_attente=True, status=Status.REFUSEE_AUTORITE, mandataire=mandant_electeur, ended_at=ended)
    seen = {}
    for moment in (datetime.datetime(2027, 10, 1, 10, 0, 0), datetime.datetime(2027, 10, 1, 10, 0, 1)):
        with time_machine.travel(moment.replace(tzinfo=paris), tick=False):
            seen[moment.second] = list(Procuration.objects.confiees_a(mandant_electeur))
    assert seen == {0: [resiliee], 1: []}
