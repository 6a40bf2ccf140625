"""Rate limits on reference lookups, and two officers validating the same reference at once."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from police import services
from procuration.exceptions import DomainError
from procuration.models import AuditLog, OutboxEmail, Procuration, ProcurationEvent, Status
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory
from tests.police._helpers import text

HOME = reverse("police:home")


@pytest.fixture
def small_limit(settings):
    settings.POLICE_LOOKUP_LIMIT = 3
    settings.POLICE_LOOKUP_WINDOW_SECONDS = 600
    return 3


def test_lookups_are_limited_per_officer(client, policier, commune, small_limit):
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune))
    client.force_login(policier)
    for raw in ("AAAAAA", "BBBBBB", "CCCCCC"):
        assert client.post(HOME, {"reference": raw}, REMOTE_ADDR="10.0.0.1").status_code == 200
    # The 4th, even with a good reference and from another address, is refused without a lookup.
    response = client.post(HOME, {"reference": "K7M2QX"}, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    html = text(response)
    assert "Trop de recherches de références en peu de temps" in html
    assert p.mandant.nom not in html
    assert "/police/procuration/" not in html  # no link to the procuration's page
    logs = list(AuditLog.objects.filter(action="police.lookup").order_by("at", "pk"))
    assert [log.detail["resultat"] for log in logs] == ["inconnue", "inconnue", "inconnue", "limite_atteinte"]
    assert logs[-1].object_id == "" and logs[-1].actor == policier
    # Another officer is not affected.
    client.force_login(UserFactory(username="opj-2", policier=True))
    assert client.post(HOME, {"reference": "K7M2QX"}, REMOTE_ADDR="10.0.0.3").status_code == 302


def test_lookups_are_limited_per_address(client, commune, small_limit, settings):
    settings.POLICE_LOOKUP_IP_LIMIT = 3
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune))
    officers = [UserFactory(username=f"opj-{i}", policier=True) for i in range(2)]
    client.force_login(officers[0])
    for raw in ("AAAAAA", "BBBBBB"):
        client.post(HOME, {"reference": raw}, REMOTE_ADDR="192.0.2.7")
    client.force_login(officers[1])
    assert client.post(HOME, {"reference": "CCCCCC"}, REMOTE_ADDR="192.0.2.7").status_code == 200
    response = client.post(HOME, {"reference": "K7M2QX"}, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 429
    assert "Trop de recherches" in text(response)
    # The same officer from another address still may.
    assert client.post(HOME, {"reference": "K7M2QX"}, REMOTE_ADDR="192.0.2.8").status_code == 302
    assert AuditLog.objects.filter(action="police.lookup", object_id=str(p.pk), ip="192.0.2.8").exists()


@pytest.mark.django_db(transaction=True)
def test_two_officers_validating_the_same_reference_at_once(commune):
    assert connection.vendor == "postgresql"
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune),
                           email_contact="mandant@example.fr")
    officers = [UserFactory(username=f"opj-{i}", policier=True) for i in range(2)]
    barrier = threading.Barrier(2)
    results = {}

    def act(officer):
        from django.db import connection as thread_connection

        try:
            # Each officer has the page open: the procuration was read « en attente ».
            mine = Procuration.objects.get(pk=p.pk)
            barrier.wait(timeout=10)
            services.valider(mine, by=officer, piece_type="cni", piece_numero_fin="1234")
            results[officer.username] = "ok"
        except DomainError as exc:
            results[officer.username] = exc.message
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=act, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results.values()) == sorted(["ok", services.ALREADY_VALIDATED])
    winner = next(o for o in officers if results[o.username] == "ok")
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE and p.autorite_by == winner
    assert ProcurationEvent.objects.filter(procuration=p, to_status=Status.VALIDEE_AUTORITE).count() == 1
    assert OutboxEmail.objects.filter(procuration=p, kind="validated_by_authority").count() == 1
