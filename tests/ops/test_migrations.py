"""Zero-downtime migrations: during a rolling deploy the previous release's code runs against the
new schema (docs/ops/operations.md, « Migrations »). A new migration of our apps may therefore
only add: columns that are nullable or have a database default, tables, indexes built
CONCURRENTLY. Removing or renaming (fields, models, tables), making a column NOT NULL, adding a
NOT NULL column without a database default, or building an index under a write lock are refused;
do them in two releases (expand, then contract once no running code uses the old shape), and
list the contracting migration in ALLOWED with the reason.
"""

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

OUR_APPS = ("procuration", "mandant", "police", "mairie", "listes", "api")

# Migrations that were written before the rule, or reviewed as safe (app, name): reason.
ALLOWED = {
    ("procuration", "0002_electeur_naissance_idx"): "before the rule (index built under lock, table then small)",
    # Drops User.identity_certified and adds two NOT NULL columns without db_default: the release
    # carrying it is deployed with a short stop (stop web and workers, migrate, start), not rolling.
    ("procuration", "0003_electeur_birth_cog_user_drop_identity_certified"): "before the rule (deploy with a stop)",
    # Chains the existing events and audit entries (seq, hashes NOT NULL, unique rank) and installs the
    # append-only trigger: the previous release would insert rows outside the chains, so the release
    # carrying it is deployed with a short stop (stop web and workers, migrate, start), not rolling.
    ("procuration", "0004_audit_hash_chains"): "audit chains: deploy with a stop (old code writes unchained rows)",
    # Drops proc_queue_idx (commune, status, autorite_at) after building proc_queue_order_idx, the
    # same columns and the id: the previous release's queries read the new index as they read the old.
    ("procuration", "0017_procuration_queue_order_idx"): "an index superseded by its extension, built first",
    # Drops electeur_naissance_idx (date_naissance) after building electeur_pivot_idx (date_naissance,
    # code_lieu_naissance, sexe): the previous release's queries read the new index as they read the old.
    ("procuration", "0018_electeur_pivot_idx"): "an index superseded by its extension, built first",
    # Drops the outbox's indexes led by the state (the field's own and outbox_pending_idx), after
    # building outbox_failed_idx: the previous release's queries by state read the partial indexes.
    ("procuration", "0019_outbox_state_indexes"): "indexes the planner misused, replaced by partial ones built first",
}

REMOVING = (
    migrations.RemoveField, migrations.DeleteModel, migrations.RenameField, migrations.RenameModel,
    migrations.AlterModelTable, migrations.RemoveIndex, migrations.RemoveConstraint,
)


def _not_null_without_db_default(field) -> bool:
    from django.db.models.fields import NOT_PROVIDED

    return not field.null and not field.many_to_many and field.db_default is NOT_PROVIDED


def incompatible_operations(app_label: str, migration, state: ProjectState) -> list[str]:
    """What in `migration` (applied on `state`) would break the previous release's code."""
    state = state.clone()
    created = set()  # models created by this migration: no running code knows them yet
    problems = []

    def check(ops):
        for op in ops:
            if isinstance(op, migrations.SeparateDatabaseAndState):
                check(op.database_operations)  # the state side changes no table
                continue
            model = getattr(op, "model_name", None) or getattr(op, "name", "")
            model = model.lower() if isinstance(model, str) else ""
            new_model = model in created
            if isinstance(op, migrations.CreateModel):
                created.add(op.name_lower)
            elif isinstance(op, REMOVING) and not new_model:
                problems.append(f"{type(op).__name__} {op.describe()}: the running code still uses it")
            elif isinstance(op, migrations.AddField) and not new_model and _not_null_without_db_default(op.field):
                problems.append(f"AddField {model}.{op.name}: NOT NULL without db_default, the running code "
                                "inserts rows without it")
            elif isinstance(op, migrations.AlterField) and not new_model:
                old = state.models[app_label, model].fields.get(op.name)
                if old is not None and old.null and _not_null_without_db_default(op.field):
                    problems.append(f"AlterField {model}.{op.name}: made NOT NULL, the running code writes NULL")
            elif (isinstance(op, migrations.AddIndex | migrations.AddConstraint) and not new_model
                  and not isinstance(op, AddIndexConcurrently)):
                problems.append(f"{type(op).__name__} on {model}: blocks writes while it builds; use "
                                "AddIndexConcurrently (atomic = False)")
            op.state_forwards(app_label, state)

    check(migration.operations)
    return problems


def test_new_migrations_keep_the_previous_release_working():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {}
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in OUR_APPS or (app, name) in ALLOWED or name == "0001_initial":
            continue
        parents = [d for d in migration.dependencies if d in loader.graph.nodes]
        state = loader.project_state(parents) if parents else ProjectState()
        problems = incompatible_operations(app, migration, state)
        if problems:
            found[f"{app}.{name}"] = problems
    assert found == {}, f"backward-incompatible migrations (see this file's docstring): {found}"


def test_allow_list_names_existing_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert set(ALLOWED) <= set(loader.disk_migrations)


# ------------------------------------------------------------------ the rule itself, on sample migrations


def _state_with_sample_model():
    state = ProjectState()
    migrations.CreateModel("Sample", [
        ("id", models.BigAutoField(primary_key=True)),
        ("nom", models.CharField(max_length=50)),
        ("note", models.CharField(max_length=50, null=True)),
    ]).state_forwards("procuration", state)
    return state


def _migration(*operations):
    m = migrations.Migration("0099_sample", "procuration")
    m.operations = list(operations)
    return m


@pytest.mark.parametrize(
    "operation, complaint",
    [
        (migrations.RemoveField("sample", "nom"), "RemoveField"),
        (migrations.RenameField("sample", "nom", "nom_usage"), "RenameField"),
        (migrations.DeleteModel("Sample"), "DeleteModel"),
        (migrations.RenameModel("Sample", "Exemple"), "RenameModel"),
        (migrations.AlterModelTable("sample", "autre_table"), "AlterModelTable"),
        (migrations.AlterField("sample", "note", models.CharField(max_length=50)), "made NOT NULL"),
        (migrations.AlterField("sample", "note", models.CharField(max_length=50, default="x")), "made NOT NULL"),
        (migrations.AddField("sample", "code", models.CharField(max_length=5, default="")), "NOT NULL without db_default"),
        (migrations.AddIndex("sample", models.Index(fields=["nom"], name="sample_nom_idx")), "AddIndexConcurrently"),
        (migrations.SeparateDatabaseAndState(database_operations=[migrations.RemoveField("sample", "nom")]),
         "RemoveField"),
    ],
)
def test_incompatible_operations_are_refused(operation, complaint):
    problems = incompatible_operations("procuration", _migration(operation), _state_with_sample_model())
    assert len(problems) == 1 and complaint in problems[0], problems


@pytest.mark.parametrize(
    "operation",
    [
        migrations.AddField("sample", "code", models.CharField(max_length=5, null=True)),
        migrations.AddField("sample", "code", models.CharField(max_length=5, db_default="")),
        migrations.AlterField("sample", "nom", models.CharField(max_length=80)),  # wider, still NOT NULL
        migrations.AlterField("sample", "note", models.CharField(max_length=50, null=True, blank=True)),
        AddIndexConcurrently("sample", models.Index(fields=["nom"], name="sample_nom_idx")),
        migrations.CreateModel("Autre", [("id", models.BigAutoField(primary_key=True)),
                                         ("nom", models.CharField(max_length=5))]),
        # Contracting in the state only (the column stays until a later release drops it).
        migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("sample", "note")]),
        migrations.RunSQL("SELECT 1", migrations.RunSQL.noop),
    ],
)
def test_compatible_operations_pass(operation):
    assert incompatible_operations("procuration", _migration(operation), _state_with_sample_model()) == []


def test_a_model_created_in_the_same_migration_may_take_anything():
    m = _migration(
        migrations.CreateModel("Autre", [("id", models.BigAutoField(primary_key=True))]),
        migrations.AddField("autre", "code", models.CharField(max_length=5, default="")),
        migrations.AddIndex("autre", models.Index(fields=["code"], name="autre_code_idx")),
    )
    assert incompatible_operations("procuration", m, _state_with_sample_model()) == []
