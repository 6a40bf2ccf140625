"""The mairie's fiche in a pinned number of statements (issue 16); its history read by one statement
written once per process (mairie/views.py _EVENTS, procuration/fixed_select.py), in the model's
order (at, then pk), with each event's actor."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procuration.models import ProcurationEvent, Status
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = pytest.mark.django_db


def test_the_fiche_reads_its_history_by_one_fixed_statement(client, agent_mairie, policier, commune):
    p = ProcurationFactory(validee_autorite=True, commune=commune, mandant=ElecteurFactory(commune=commune))
    ProcurationEvent.append(p, from_status=Status.BROUILLON, to_status=Status.EN_ATTENTE)
    ProcurationEvent.append(p, from_status=Status.EN_ATTENTE, to_status=Status.VALIDEE_AUTORITE, actor=policier,
                            reason="Pièce vérifiée")
    url = reverse("mairie:detail", args=[p.pk])
    client.force_login(agent_mairie)
    client.get(url)  # the site's configuration (django-dsfr) is read by the first page, then cached
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    sql = [q["sql"] for q in captured]
    assert response.status_code == 200
    # user (with whether they hold a mandat, for the menu: procuration.auth), the procuration
    # (_procuration), the checks (procuration.checks._load), the history
    assert len(sql) == 4, sql
    # _procuration: the related rows joined, the scoping rule (visible_to: the agent's commune) applied
    assert 'JOIN "procuration_electeur" ON ("procuration_procuration"."mandant_id"' in sql[1], sql[1]
    assert f'"procuration_procuration"."commune_id" = {commune.pk}' in sql[1]
    events = [s for s in sql if 'FROM "procuration_procurationevent"' in s]
    assert len(events) == 1 and 'FROM "procuration_procurationevent" t ' in events[0], events
    timeline = response.content.decode().split('id="timeline"')[1]
    first, second = timeline.index("En attente"), timeline.index("Pièce vérifiée")
    assert first < second
    assert f", par {policier}" in timeline


def test_a_fiche_out_of_reach_answers_404(client, agent_mairie, other_commune):
    """Another commune's procuration, or a number beyond a bigint: the scoping rule (visible_to) and
    the ORM's lookup still decide, through the statement compiled once (mairie/views.py::_procuration)."""
    other = ProcurationFactory(validee_autorite=True, commune=other_commune,
                               mandant=ElecteurFactory(commune=other_commune))
    client.force_login(agent_mairie)
    for pk in (other.pk, 2**70):
        assert client.get(reverse("mairie:detail", args=[pk])).status_code == 404
