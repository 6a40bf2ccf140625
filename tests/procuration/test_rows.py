"""procuration.rows: a page read with values_list(), nested back into light rows (issue 16)."""

import datetime

import pytest
from django.utils import timezone

from procuration import checks
from procuration.models import Electeur, Procuration
from procuration.rows import Columns, Row
from tests.factories import ElecteurFactory, ProcurationFactory

pytestmark = pytest.mark.django_db


def test_columns_read_only_what_is_named_and_nest_the_relations(commune, django_assert_num_queries):
    with_all = ProcurationFactory(validee_autorite=True, commune=commune)
    without = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=None, portee="duree",
                                 tour1=False, tour2=False, valid_from=timezone.localdate() + datetime.timedelta(days=3),
                                 valid_until=timezone.localdate() + datetime.timedelta(days=90), mandant=ElecteurFactory(commune=commune, bureau=None))
    columns = Columns({"": ("reference",), "mandant__bureau": ("numero",), "scrutin": ("libelle",)})
    with django_assert_num_queries(1):
        rows = {p.pk: p for p in columns.load(Procuration.objects.filter(commune=commune).order_by("pk"))}
        a, b = rows[with_all.pk], rows[without.pk]
        assert (a.reference, a.scrutin.libelle, a.mandant.bureau.numero, a.mandant.pk) == (
            with_all.reference, with_all.scrutin.libelle, with_all.mandant.bureau.numero, with_all.mandant_id)
        assert b.scrutin is None and b.mandant.bureau is None and b.mandant.id == without.mandant_id
    with pytest.raises(AttributeError):  # a column not asked for is an error, never a query
        a.status  # noqa: B018
    assert set(vars(a)) == {"id", "reference", "mandant", "scrutin"}


def test_a_union_of_columns_reads_both_and_keeps_the_row_classes(commune):
    class Voter(Row):
        peut_voter = Electeur.peut_voter

    p = ProcurationFactory(validee_autorite=True, commune=commune,
                           mandataire=ElecteurFactory(commune=commune, deces=True))
    shown = Columns({"mandataire": ("nom",)})
    checked = Columns({"mandataire": ("inscrit", "droits_civiques", "deces")}, classes={"mandataire": Voter})
    [row] = (shown | checked).load(Procuration.objects.filter(pk=p.pk))
    assert row.mandataire.nom == p.mandataire.nom and row.mandataire.peut_voter is False
    assert isinstance(row.mandataire, Voter)
    with pytest.raises(ValueError):
        checked | Columns({"mandataire": ()}, classes={"mandataire": Row})


def test_the_checks_columns_and_a_page_slice(commune):
    for _ in range(3):
        ProcurationFactory(validee_autorite=True, commune=commune)
    qs = Procuration.objects.filter(commune=commune).order_by("pk")
    page = checks.COLUMNS.queryset(qs)[1:3]
    assert [p.pk for p in checks.COLUMNS.rows(page)] == list(qs.values_list("pk", flat=True)[1:3])


def test_by_pk_reads_the_same_rows_as_load_in_the_order_given(commune, django_assert_num_queries):
    """Columns.by_pk: one statement written once per process, the same objects as values_list() gives
    (a relation absent: None, under a LEFT OUTER JOIN too), in the order of the pks asked for, a pk
    not found left out; its text does not change with the number of pks; no pk, no query."""
    from django.db import connection

    with_all = ProcurationFactory(validee_autorite=True, commune=commune)
    without = ProcurationFactory(validee_autorite=True, commune=commune, scrutin=None, portee="duree",
                                 tour1=False, tour2=False, valid_from=timezone.localdate() + datetime.timedelta(days=3),
                                 valid_until=timezone.localdate() + datetime.timedelta(days=90),
                                 mandant=ElecteurFactory(commune=commune, bureau=None))
    third = ProcurationFactory(en_attente=True, commune=commune)
    from mairie.views import QUEUE_ROW_COLUMNS as columns

    def nested(row):
        return {k: nested(v) if isinstance(v, Row) else v for k, v in vars(row).items()}

    loaded = {p.pk: nested(p) for p in columns.load(Procuration.objects.all())}
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    order = [third.pk, without.pk, 10**9, with_all.pk]
    with django_assert_num_queries(1), connection.execute_wrapper(record):
        rows = columns.by_pk(Procuration, order)
    assert [p.pk for p in rows] == [third.pk, without.pk, with_all.pk]
    assert [nested(p) for p in rows] == [loaded[p.pk] for p in rows]
    assert rows[1].scrutin is None and rows[1].mandant.bureau is None and rows[0].autorite_at is None
    assert type(rows[2].mandant) is type(columns.load(Procuration.objects.filter(pk=with_all.pk))[0].mandant)
    with connection.execute_wrapper(record):
        columns.by_pk(Procuration, [with_all.pk])
    assert statements[0] == statements[1]
    with django_assert_num_queries(0):
        assert columns.by_pk(Procuration, []) == []



def _plans_of_by_pk(run) -> tuple[int, int]:
    """(generic, custom) plans of by_pk's prepared statement after `run` ran it 12 times on a fresh
    connection state: psycopg prepares it at its sixth run, PostgreSQL then tries 5 custom plans
    before it compares them with the generic one."""
    from django.db import connection

    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        pytest.skip("prepared statements off (DB_PREPARE_THRESHOLD=off)")
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()  # psycopg's list of what it prepared, emptied by DEALLOCATE ALL
    for _ in range(12):
        run()
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%= ANY($1)%"])
        [plans] = cursor.fetchall()
    return plans


def test_a_short_queue_is_not_planned_again_on_every_request(client, agent_mairie, commune, other_commune):
    """A commune's queue of one row, in a database of thousands of procurations (statistics say so):
    by_pk's statement, prepared from its sixth run, must run its generic plan, not be planned again on
    every request. Unpadded, PostgreSQL kept planning it: a custom plan for a 1-element array is
    estimated cheaper than the generic plan, which assumes more (0.94 ms of planning a run in the
    load bench; docs/performance.md). The view pads the array to the page's size."""
    from django.db import connection
    from django.urls import reverse

    from mairie.views import QUEUE_PAGE_SIZE
    from mairie.views import QUEUE_ROW_COLUMNS as columns
    from tests.mairie.test_queue_queries import _bulk_waiting

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    _bulk_waiting(other_commune, 3000)
    with connection.cursor() as cursor:
        # The two tables it read, not every table: ANALYZE rewrites row estimates that the test's rollback
        # leaves in place (tests/mairie/test_dashboard_scale.py).
        cursor.execute("ANALYZE procuration_procuration, procuration_electeur")
    p = ProcurationFactory(validee_autorite=True, commune=commune)
    client.force_login(agent_mairie)
    assert client.get(reverse("mairie:queue")).status_code == 200  # the session's first request

    def page():
        response = client.get(reverse("mairie:queue"))
        assert response.status_code == 200 and p.reference in response.content.decode()

    generic, custom = _plans_of_by_pk(page)
    assert (generic, custom) == (2, 5)  # 7 prepared runs: the 5 custom plans it compares, then generic
    # What the view fixes: by_pk without the padding, same rows, planned on every run.
    generic, custom = _plans_of_by_pk(lambda: columns.by_pk(Procuration, [p.pk]))
    assert (generic, custom) == (0, 7)
    assert [row.id for row in columns.by_pk(Procuration, [p.pk], pad_to=QUEUE_PAGE_SIZE)] == [p.pk]
