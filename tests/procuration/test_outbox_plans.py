"""The worker finds an outbox message by its key, whatever the statistics say (issue 16).

Statistics taken when every message had been sent estimate « pending » at one row; with an index
led by the state, PostgreSQL read it to find one message by its key, visiting every entry left
under « pending » (dead ones included) for each message sent: 0.75 ms a message in the load bench.
Migration 0019 leaves no such index. Checked on the generic plan, the one a statement prepared on
the worker's connection runs from its sixth run on (DB_PREPARE_THRESHOLD)."""

import json

import pytest
from django.db import connection

from procuration import tasks
from procuration.models import OutboxEmail

pytestmark = pytest.mark.django_db


def _outbox_scans(plan: dict) -> list[dict]:
    reads = plan.get("Relation Name") == OutboxEmail._meta.db_table and plan["Node Type"] != "ModifyTable"
    found = [plan] if reads else []
    for child in plan.get("Plans", []):
        found += _outbox_scans(child)
    return found


def generic_plan(sql: str, literals: list[str]) -> list[dict]:
    """The outbox's scans in the generic plan of `sql` (its %s as $1…, the values as SQL literals)."""
    text = sql
    for i in range(1, sql.count("%s") + 1):
        text = text.replace("%s", f"${i}", 1)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE outbox_plan_test AS {text}")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE outbox_plan_test({', '.join(literals)})")
            plan = cursor.fetchone()[0]
        finally:
            cursor.execute("DEALLOCATE outbox_plan_test")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _outbox_scans(plan[0]["Plan"])


@pytest.fixture
def statistics_of_a_sent_outbox():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's planner")
    OutboxEmail.objects.bulk_create([
        OutboxEmail(kind="reference", to=f"m{i}@example.fr", subject="s", body_text="b") for i in range(2000)
    ])
    OutboxEmail.objects.update(state=OutboxEmail.State.SENT)  # sent: their « pending » entries are dead
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {OutboxEmail._meta.db_table}")
    OutboxEmail.objects.bulk_create([
        OutboxEmail(kind="reference", to=f"p{i}@example.fr", subject="s", body_text="b") for i in range(5)
    ])


@pytest.mark.parametrize(("name", "literals"), [
    ("MARK_SENT_AND_RENEW", ["1", "30", "2", "'claim'"]),
    ("CLAIM_ONE", ["'claim'", "30", "1"]),
])
def test_the_worker_reads_a_message_by_its_key(statistics_of_a_sent_outbox, name, literals):
    scans = generic_plan(getattr(tasks, name), literals)
    assert scans, "the statement reads the outbox"
    for scan in scans:
        assert "Index" in scan["Node Type"], scan
        assert "state" not in scan.get("Index Cond", ""), scan  # an index led by the state
        assert "id =" in scan.get("Index Cond", ""), scan


def test_no_index_of_the_outbox_leads_with_its_state(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, OutboxEmail._meta.db_table)
    assert [name for name, c in constraints.items() if c["index"] and c["columns"][:1] == ["state"]] == []
