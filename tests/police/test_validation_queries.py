"""The counter's « valider » POST in a pinned number of statements, and its reads compiled once per
process (issue 16, docs/performance.md « The flow's three POSTs »): the fiche's read and the locked read
(procuration/fixed_select.py CompiledOnce), the mandataire's lock and the electors' procurations read
once for the plafond and the doublon (procuration/checks.py raise_for_validation), the event's head."""

import pytest
from django.urls import reverse

from procuration.models import OutboxEmail, Procuration, ProcurationCount, ProcurationEvent, Status
from tests.compilations import insert_compilations, select_compilations
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = pytest.mark.django_db

VALIDER = {"action": "valider", "piece_type": "cni", "piece_numero_fin": "AB12"}
# user; the fiche; SAVEPOINT; the locked procuration with its related rows; the mandataire's lock; the
# mandant's and the mandataire's procurations (one read); UPDATE; the dashboard's counts (one INSERT of
# the -1 and +1 rows, procuration.counts); the event's head; the event; the Change row (with the
# webhooks); the outbox row; RELEASE.
STATEMENTS = 13


def _fiche_url(client, commune):
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    response = client.post(reverse("police:home"), {"reference": p.reference})
    assert response.status_code == 302
    return p, response["Location"]


def test_the_validation_post_runs_a_pinned_number_of_statements_and_compiles_no_select(
    client, policier, commune, django_assert_num_queries
):
    client.force_login(policier)
    _, warm = _fiche_url(client, commune)
    assert client.post(warm, VALIDER).status_code == 302  # the process's first use compiles its statements
    p, url = _fiche_url(client, commune)
    with select_compilations() as compiled, insert_compilations() as inserts, \
            django_assert_num_queries(STATEMENTS):
        response = client.post(url, VALIDER)
    assert response.status_code == 302
    assert compiled == []  # every SELECT of the request was compiled once per process
    # The event's, the outbox row's and the counts' INSERTs are written once per process (procuration.fixed_select).
    assert not {ProcurationEvent, OutboxEmail, ProcurationCount} & set(inserts), inserts
    p = Procuration.objects.get(pk=p.pk)
    assert p.status == Status.VALIDEE_AUTORITE and p.events.count() == 1 and p.emails.count() == 1


def test_a_doublon_still_refuses_and_the_plafond_still_voids_from_the_one_read(client, policier, commune):
    client.force_login(policier)
    mandant = ElecteurFactory(commune=commune)
    established = ProcurationFactory(validee_autorite=True, mandant=mandant)
    p = ProcurationFactory(en_attente=True, mandant=mandant, valid_from=established.valid_from,
                           valid_until=established.valid_until)
    url = client.post(reverse("police:home"), {"reference": p.reference})["Location"]
    response = client.post(url, VALIDER, follow=True)
    assert f"référence {established.reference}" in response.content.decode()
    assert Procuration.objects.get(pk=p.pk).status == Status.EN_ATTENTE
