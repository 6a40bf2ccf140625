"""L.73 at the counter: the officer validates a demande whose mandataire already holds the maximum of
established procurations; the act is recorded and void at once, and the page says so (docs/domain.md)."""

import pytest
from django.urls import reverse

from police import services
from procuration.models import OutboxEmail, Status
from tests.factories import ElecteurFactory, ProcurationFactory
from tests.police._helpers import text

HOME = reverse("police:home")


@pytest.fixture
def over_the_plafond(commune):
    mandataire = ElecteurFactory(commune=commune, nom="LAMBERT", prenoms="Paul", sexe="M")
    held = ProcurationFactory(validee_mairie=True, commune=commune, mandataire=mandataire, etablissement="france",
                              mandant=ElecteurFactory(commune=commune))
    return ProcurationFactory(en_attente=True, reference="K7M2QX", mandataire=mandataire, scrutin=held.scrutin,
                              mandant=ElecteurFactory(commune=commune), email_contact="m@example.fr")


def test_counter_validation_over_the_plafond_shows_the_procuration_void_and_why(
    client, policier, over_the_plafond, django_capture_on_commit_callbacks
):
    client.force_login(policier)
    url = client.post(HOME, {"reference": "K7M2QX"})["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        page = text(client.post(url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"},
                                follow=True))
    assert "Procuration K7M2QX établie mais nulle" in page
    assert "Procuration K7M2QX nulle" in page and "détient déjà une procuration établie en France" in page
    assert "choisir un autre mandataire" in page
    over_the_plafond.refresh_from_db()
    assert (over_the_plafond.status, over_the_plafond.annulation_motif) == (Status.ANNULEE, "plafond")
    assert list(OutboxEmail.objects.values_list("kind", flat=True)) == ["annulation"]
    # Typed again, the reference says it is void: nothing more to do at the counter.
    again = text(client.post(HOME, {"reference": "K7M2QX"}))
    assert services.STATUS_MESSAGES[Status.ANNULEE] in again
