"""The mairie's dashboard costs the same whatever the commune's size (issue 16): the same SQL
queries, and not the commune's rows read (an aggregate reads all of them), for 3 and for 150 procurations; its figures come from
the counts kept as they change (procuration.counts), not from an aggregate over the commune's rows.

The planner is told not to scan whole tables (enable_seqscan off, as it would not on millions of
rows); the rows read are PostgreSQL's own per-transaction statistics of the procuration table and
its indexes (rows returned by sequential scans, index entries returned). No ANALYZE here: statistics
of rows that the test's rollback removes mislead the planner of every later test (a join of the
mairie queue ran for minutes in a full run after one)."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procuration.models import Procuration
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db

TABLE = Procuration._meta.db_table
STATES = ("en_attente", "validee_autorite", "validee_mairie")


def _procuration_rows_read() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(oid)), 0) FROM ("
            " SELECT %s::regclass::oid AS oid UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = %s::regclass"
            ") AS relations", [TABLE, TABLE])
        return int(cursor.fetchone()[0])


def _visit(client):
    before = _procuration_rows_read()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("mairie:home"))
    assert response.status_code == 200
    return len(queries), _procuration_rows_read() - before, html.unescape(response.content.decode())


def _add(commune, scrutin, n):
    for i in range(n):
        ProcurationFactory(commune=commune, scrutin=scrutin, mandant=ElecteurFactory(commune=commune),
                           **{STATES[i % len(STATES)]: True})


def test_the_dashboard_reads_as_many_rows_for_3_as_for_150_procurations(client, agent_mairie, commune):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # this test's transaction only
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

    assert large[0] == small[0], (small[:2], large[:2])  # the same queries
    # An aggregate over the commune reads every one of the 147 rows added. On so small a table (and with
    # whatever statistics autovacuum left from earlier tests) the planner may still take an index that
    # reads one status of the commune (≈ 49 rows), which it does not on millions: below one third.
    assert large[1] - small[1] < 60, (small[:2], large[:2])
    page = large[2]
    assert "<td>Expirée</td><td>1</td>" in page
    assert "<td>En attente de validation</td><td>50</td>" in page  # 51 in the table, one past its last day
    assert "<td>Validée par l'autorité</td><td>50</td>" in page
    assert "<td>Validée par la mairie</td><td>49</td>" in page
    assert "<th scope=\"row\">Total</th><td>150</td>" in page

