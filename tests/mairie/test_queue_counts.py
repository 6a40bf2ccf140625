"""The queue's total taken from procuration.counts (mairie.listing.queue_page, issue 16) is the
number of rows the queue lists, for every filter the counts answer (each status of the form, every
scrutin or one), after any sequence of creations, transitions, expiries by date, purges and
compactions (a hypothesis state machine); the filters they cannot answer (bureau, age) count the
rows; a page past the end lands on the last one."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from mairie import listing
from mairie.forms import STATUS_CHOICES
from procuration import counts
from procuration.models import Procuration
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory
from tests.procuration.test_counts import changes_machine

pytestmark = pytest.mark.django_db

PER_PAGE = 3  # small pages: the walks of the state machine reach the second and later pages


def _page(agent, data, number=1):
    form = listing.queue_form(agent, data)
    form.is_valid()  # the scrutin's choice read before: not the page's statements
    with CaptureQueriesContext(connection) as queries:
        page, pks = listing.queue_page(agent, form, number, PER_PAGE)
    return form, page, pks, [q["sql"] for q in queries.captured_queries]


def _listed(agent, form) -> list[int]:
    """The oracle: every row the queue lists for these filters, in its order."""
    return list(listing.queue_queryset(agent, form).values_list("pk", flat=True))


def test_the_counted_total_is_the_number_of_rows_listed_after_any_sequence_of_changes():
    communes = [CommuneFactory(), CommuneFactory()]
    scrutins = [ScrutinFactory(), ScrutinFactory()]
    officer = UserFactory(username="opj-queue-counts", policier=True)
    agent = UserFactory(username="agent-queue-counts", agent_mairie=True, commune=communes[0])
    filters = [{"status": status, **({"scrutin": s.pk} if s else {})}
               for status, _ in STATUS_CHOICES for s in (None, *scrutins)]
    filters.append({})  # the queue's own view, unbound

    class Queue(changes_machine(communes, scrutins, officer, agent, communes_drawn=(0, 0, 1))):
        @rule()
        def compact(self):
            counts.compact()

        @invariant()
        def the_total_is_the_rows_listed(self):
            for data in filters:
                form, page, pks, sql = _page(agent, data)
                assert not data or form.is_valid(), form.errors
                listed = _listed(agent, form)
                assert page.paginator.count == len(listed), data
                assert pks == listed[:PER_PAGE], data
                # The total came from the counts, with the page's pks: one statement, no window.
                assert len(sql) == 1 and "OVER (" not in sql[0], sql

    run_state_machine_as_test(Queue, settings=settings(
        max_examples=8, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)))


@pytest.fixture
def queue_of_seven(agent_mairie, commune):
    """Seven procurations waiting for the mairie in the agent's commune (two bureaux), one in
    another commune, a brouillon."""
    scrutin = ScrutinFactory()
    rows = [ProcurationFactory(validee_autorite=True, commune=commune, scrutin=scrutin,
                               mandant=ElecteurFactory(commune=commune),
                               autorite_at=timezone.now() - datetime.timedelta(days=i)) for i in range(7)]
    ProcurationFactory(validee_autorite=True)  # another commune
    ProcurationFactory(commune=commune, scrutin=scrutin, mandant=ElecteurFactory(commune=commune))  # brouillon
    return rows


def test_a_page_past_the_end_lands_on_the_last_page_with_the_counted_total(agent_mairie, queue_of_seven):
    form, page, pks, sql = _page(agent_mairie, {}, 99)
    assert page.number == 3 and page.paginator.count == 7
    assert pks == _listed(agent_mairie, form)[6:]
    assert not any("OVER (" in q or "COUNT(*) AS" in q for q in sql), sql  # the counts, not the rows
    form, page, pks, sql = _page(agent_mairie, {}, "x")  # not a number: the first
    assert page.number == 1 and page.paginator.count == 7 and len(sql) == 1


@pytest.mark.parametrize("data", [{"age": "3"}, {"bureau": "mandant's"}, {"age": "1", "status": "validee_autorite"}])
def test_the_filters_the_counts_cannot_answer_count_the_rows(agent_mairie, queue_of_seven, data):
    """The bureau (the mandant's) and the age are not keys of the counts: COUNT(*) OVER ()."""
    if "bureau" in data:
        data = {"bureau": queue_of_seven[0].mandant.bureau_id}
    form, page, pks, sql = _page(agent_mairie, data)
    assert form.is_valid(), form.errors
    listed = _listed(agent_mairie, form)
    assert 0 < len(listed) < 8 and page.paginator.count == len(listed) and pks == listed[:PER_PAGE]
    assert len(sql) == 1 and "OVER ()" in sql[0]


@pytest.mark.parametrize("status", ["validee_autorite", "en_attente", "validee_mairie"])
def test_the_page_walks_the_queue_index_in_its_order_and_sorts_nothing(agent_mairie, commune, status):
    """Migration 0017: proc_queue_order_idx (commune, status, autorite_at, id) gives the rows in the
    page's order, the demandes « en attente » (no autorite_at) too: the page stops at its last
    row (LIMIT), O(page), where a sort would read the whole queue of that status.

    Checked on the statement's shape (equalities on the index's first columns, ORDER BY its last
    ones), not on a plan: the tests' tables are nearly empty and their planner statistics are
    whatever an earlier test left (docs/testing.md, « Planner statistics »), so which index an
    EXPLAIN picks here says nothing of a real queue. The plans on a loaded database (12 006 rows
    read and sorted before, 150 after) are in docs/performance.md."""
    index = next(i for i in Procuration._meta.indexes if i.name == "proc_queue_order_idx")
    assert index.fields == ["commune", "status", "autorite_at", "id"]
    form = listing.queue_form(agent_mairie, {"status": status})
    assert form.is_valid(), form.errors
    qs = listing.queue_queryset(agent_mairie, form).annotate(
        total=listing._counted_total(agent_mairie.commune_id, listing._counted(agent_mairie, form)))
    assert [f.replace("pk", "id") for f in qs.query.order_by] == index.fields[2:]
    sql, params = qs.values_list("pk", "total")[100:150].query.sql_with_params()
    outer = sql[sql.rindex(" FROM "):]  # the page's own WHERE, after the counts' subqueries
    table = Procuration._meta.db_table
    assert f'"{table}"."commune_id" = %s' in outer, outer
    assert re.search(rf'"{table}"\."status" (= %s|IN \(%s\))', outer), outer  # one status
    # the pk is column 1 of values_list("pk", …): ORDER BY 1 is the id
    assert re.search(rf'ORDER BY "{table}"\."autorite_at" ASC, (1|"{table}"\."id") ASC LIMIT', outer), outer


def test_the_counted_page_is_compiled_once_per_shape_whatever_the_commune(agent_mairie, queue_of_seven):
    """procuration.fixed_select.CompiledOnce: another commune, another scrutin, the same statement."""
    other = UserFactory(username="agent-queue-other", agent_mairie=True)
    scrutin = queue_of_seven[0].scrutin
    listing._COUNTED_PAGE._plans.clear()
    for agent in (agent_mairie, other):
        _page(agent, {"status": "validee_autorite", "scrutin": scrutin.pk})
        _page(agent, {})
    assert len(listing._COUNTED_PAGE._plans) == 2  # with a scrutin, and without
    form, page, pks, sql = _page(agent_mairie, {"scrutin": scrutin.pk})
    assert page.paginator.count == 7 and pks == _listed(agent_mairie, form)[:PER_PAGE]
    assert len(listing._COUNTED_PAGE._plans) == 2
