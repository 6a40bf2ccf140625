"""The mairie's dashboard costs the same whatever the commune's size (issue 16): the same SQL
queries for 3 and for 150 procurations, each statement that reads the procurations bounded (the first
waiting one, the demandes past their two months), the figures from the counts kept as they change
(procuration.counts), not from an aggregate over the commune's rows.

Not asserted: the rows PostgreSQL reads. On a test table of a few hundred rows the plan depends on
statistics (none here: an ANALYZE of rows a test rolls back misleads the planner of every later
test, docs/testing.md); the bench measures the time at 1 M and 5 M (bench/load/scale.py)."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procuration.models import Procuration, ProcurationCount
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db

TABLE = Procuration._meta.db_table
STATES = ("en_attente", "validee_autorite", "validee_mairie")


def _visit(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("mairie:home"))
    assert response.status_code == 200
    sql = [q["sql"] for q in queries]
    return sql, html.unescape(response.content.decode())


def _add(commune, scrutin, n):
    for i in range(n):
        ProcurationFactory(commune=commune, scrutin=scrutin, mandant=ElecteurFactory(commune=commune),
                           **{STATES[i % len(STATES)]: True})


def test_the_dashboard_reads_bounded_statements_for_3_as_for_150_procurations(client, agent_mairie, commune):
    assert connection.vendor == "postgresql"
    scrutin = ScrutinFactory(libelle="Municipales")
    # One demande past its two months (expirée at read time, still « en attente » in the table).
    with_expired = ProcurationFactory(en_attente=True, commune=commune, scrutin=scrutin,
                                      mandant=ElecteurFactory(commune=commune))
    Procuration.objects.filter(pk=with_expired.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=70))
    _add(commune, scrutin, 2)
    client.force_login(agent_mairie)
    _visit(client)  # the session and the caches warm

    small = _visit(client)
    _add(commune, scrutin, 147)
    large = _visit(client)

    assert len(large[0]) == len(small[0]), (small[0], large[0])  # the same number of queries
    # The statements that read the procurations are bounded whatever the commune's size: the first
    # waiting one (LIMIT 1, by the queue's index), and the demandes « en attente » already past their
    # two months (by (commune, status, submitted_at)); the figures come from the kept counts. The old
    # aggregate (every row of the commune, GROUP BY status) fails this.
    statements = large[0]
    assert any(f'FROM "{ProcurationCount._meta.db_table}"' in q for q in statements)
    for q in statements:
        if f'FROM "{TABLE}"' in q:
            assert "LIMIT 1" in q or ("'en_attente'" in q and '"submitted_at" <' in q), q
    page = large[1]
    assert "<td>Expirée</td><td>1</td>" in page
    assert "<td>En attente de validation</td><td>50</td>" in page  # 51 in the table, one past its last day
    assert "<td>Validée par l'autorité</td><td>50</td>" in page
    assert "<td>Validée par la mairie</td><td>49</td>" in page
    assert "<th scope=\"row\">Total</th><td>150</td>" in page

