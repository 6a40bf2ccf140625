"""L.75 at the counter: the officer types the reference of a procuration whose mandant asked online
to revoke it, checks the identity and confirms; the résiliation then takes effect."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from procuration.models import OutboxEmail, Procuration, Status
from tests.factories import ProcurationFactory
from tests.police._helpers import text

HOME = reverse("police:home")


@pytest.fixture
def in_force(commune):
    return ProcurationFactory(validee_mairie=True, commune=commune, reference="K7M2QX", email_contact="m@example.fr")


def test_counter_finds_a_pending_resiliation_request_and_confirms_it_after_the_identity_check(
    client, policier, in_force, django_capture_on_commit_callbacks
):
    in_force.demander_resiliation()
    client.force_login(policier)
    response = client.post(HOME, {"reference": "k7m2qx"})
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "Demande de résiliation de la procuration K7M2QX" in page and "Valider la procuration" not in page
    # Validating it again is not on offer: the only act is the résiliation.
    client.post(response["Location"], {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"})
    in_force.refresh_from_db()
    assert in_force.status == Status.VALIDEE_MAIRIE
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(response["Location"], {"action": "resilier", "piece_type": "cni", "piece_numero_fin": "1234"},
                           follow=True)
    assert "Résiliation de la procuration K7M2QX confirmée" in text(done)
    in_force.refresh_from_db()
    assert in_force.status == Status.RESILIEE
    assert set(OutboxEmail.objects.values_list("kind", flat=True)) == {"resiliation", "resiliation_mairie"}
    assert in_force.events.last().actor == policier


def test_counter_without_a_resiliation_request_says_already_validated(client, policier, in_force):
    client.force_login(policier)
    response = client.post(HOME, {"reference": "K7M2QX"})
    assert response.status_code == 200 and "déjà été validée" in text(response)


def test_a_procuration_validated_long_after_its_demande_expired_can_still_be_revoked_at_the_counter(
    client, policier, in_force
):
    """The two months (arrêté of 31 March 2021) bound the demande awaiting validation, not a procuration in force:
    three months after it was submitted, its résiliation is still confirmed at the counter."""
    Procuration.objects.filter(pk=in_force.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=92))
    in_force.refresh_from_db()
    in_force.demander_resiliation()
    client.force_login(policier)
    response = client.post(HOME, {"reference": "K7M2QX"})
    assert response.status_code == 302
    client.post(response["Location"], {"action": "resilier", "piece_type": "cni", "piece_numero_fin": "1234"})
    in_force.refresh_from_db()
    assert in_force.status == Status.RESILIEE
