"""Matching a login to the register reads the electors born that day at that place of that sexe,
not every elector born that day (migration 0018, electeur_pivot_idx; procuration/registry.py).

The statement is the one electeur_for_pivot runs, captured as it goes to PostgreSQL, then run again
under EXPLAIN ANALYZE: the check is on the rows PostgreSQL read and threw away, not on the name of
the plan. The table holds 3,000 electors born the same day (statistics from ANALYZE, taken inside
the test's transaction and rolled back with it)."""

import datetime
import json

import pytest
from django.db import connection

from procuration.identity import Pivot
from procuration.models import Electeur
from procuration.registry import electeur_for_pivot
from tests.factories import CommuneFactory, ElecteurFactory

DAY = datetime.date(1980, 5, 17)


def scans_of(plan, table):
    if plan.get("Relation Name") == table:
        yield plan
    for child in plan.get("Plans", []):
        yield from scans_of(child, table)


@pytest.mark.django_db
def test_a_login_reads_only_the_electors_born_that_day_at_that_place():
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    commune = CommuneFactory()
    template = ElecteurFactory.build(commune=commune, bureau=None)
    fields = {f.attname: getattr(template, f.attname) for f in Electeur._meta.concrete_fields if not f.primary_key}
    Electeur.objects.bulk_create([
        Electeur(**{**fields, "nne": f"{500000000 + i:09d}", "nom": f"NOM{i}", "prenoms": "Jeanne",
                    "sexe": "FM"[i % 2], "date_naissance": DAY, "code_lieu_naissance": f"{10000 + i // 2:05d}"})
        for i in range(3000)
    ])
    statements = []

    def capture(execute, sql, params, many, context):
        if "code_lieu_naissance" in sql:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    pivot = Pivot("NOM1234", "Jeanne", DAY, "F", "10617", "99100")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE procuration_electeur")
    with connection.execute_wrapper(capture):
        found, reason = electeur_for_pivot(pivot)
    assert found is not None and found.nom == "NOM1234" and reason == ""
    assert len(statements) == 1
    sql, params = statements[0]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    [scan] = scans_of(plan[0]["Plan"], "procuration_electeur")
    thrown_away = scan.get("Rows Removed by Filter", 0) + scan.get("Rows Removed by Index Recheck", 0)
    assert scan["Actual Rows"] == 1
    assert thrown_away <= 2, scan  # 2,999 with the index on the date alone
