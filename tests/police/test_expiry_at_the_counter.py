"""The demande's lifetime at the counter, on both sides of its last day, and a demande that expires
while its page is open: the officer's POST is refused (police.services.valider re-checks)."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from police import services
from procuration.models import AuditLog, ProcurationEvent, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory
from tests.police._helpers import text

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HOME = reverse("police:home")


def at(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


def submitted(commune, *moment):
    with at(*moment):
        p = ProcurationFactory(mandant=ElecteurFactory(commune=commune),
                               scrutin=ScrutinFactory(date_tour1=datetime.date(2028, 6, 11),
                                                      date_tour2=datetime.date(2028, 6, 18)))
        p.soumettre()
    return p


@pytest.mark.parametrize(
    ("moment", "last_minute", "first_minute"),
    [
        ((2027, 1, 4, 11, 0), (2027, 3, 4, 23, 59), (2027, 3, 5, 0, 0)),
        ((2026, 12, 31, 12, 0), (2027, 2, 28, 23, 59), (2027, 3, 1, 0, 0)),  # no 31 February
        ((2027, 12, 31, 12, 0), (2028, 2, 29, 23, 59), (2028, 3, 1, 0, 0)),  # leap year
    ],
)
def test_reference_opens_on_its_last_day_and_not_the_day_after(client, commune, policier, moment, last_minute,
                                                               first_minute):
    p = submitted(commune, *moment)
    with at(*last_minute):
        client.force_login(policier)
        response = client.post(HOME, {"reference": p.reference})
        assert response.status_code == 302
        page = text(client.get(response["Location"]))
        last_day = datetime.date(*last_minute[:3])
        assert f"Demande à valider au plus tard le</dt><dd>{last_day:%d/%m/%Y}" in page
    with at(*first_minute):
        client.force_login(policier)
        response = client.post(HOME, {"reference": p.reference})
        assert response.status_code == 200
        assert services.EXPIRED in text(response)
    assert AuditLog.objects.filter(action="police.lookup").order_by("pk").last().detail["resultat"] == "expiree"


def test_validation_posted_after_the_demande_expired_is_refused(client, commune, policier):
    """The page was opened on the last day; the officer validates after midnight: refused, nothing
    changes, even though the page's link is still valid and the beat task has not run yet."""
    p = submitted(commune, 2027, 1, 4, 11, 0)
    with at(2027, 3, 4, 23, 50):
        client.force_login(policier)
        url = client.post(HOME, {"reference": p.reference})["Location"]
    with at(2027, 3, 5, 0, 10):
        client.force_login(policier)
        response = client.post(url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"},
                               follow=True)
        assert services.EXPIRED in text(response)
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE and p.autorite_at is None and p.autorite_by is None
    assert not ProcurationEvent.objects.filter(procuration=p, to_status=Status.VALIDEE_AUTORITE).exists()


def test_refusal_posted_after_the_demande_expired_is_refused(client, commune, policier):
    p = submitted(commune, 2027, 1, 4, 11, 0)
    with at(2027, 3, 4, 23, 50):
        client.force_login(policier)
        url = client.post(HOME, {"reference": p.reference})["Location"]
    with at(2027, 3, 5, 0, 10):
        client.force_login(policier)
        response = client.post(url, {"action": "refuser", "motif": "personne_absente"}, follow=True)
        assert services.EXPIRED in text(response)
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE and p.refus_motif == ""


def test_validation_posted_on_the_last_day_goes_through(client, commune, policier):
    p = submitted(commune, 2027, 1, 4, 11, 0)
    with at(2027, 3, 4, 23, 50):
        client.force_login(policier)
        url = client.post(HOME, {"reference": p.reference})["Location"]
    with at(2027, 3, 4, 23, 59, 59):
        client.force_login(policier)
        response = client.post(url, {"action": "valider", "piece_type": "cni", "piece_numero_fin": "1234"})
        assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE
