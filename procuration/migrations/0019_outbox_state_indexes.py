"""No index of the outbox leads with its state any more.

The worker finds a message by its key to mark it sent (procuration.tasks.MARK_SENT_AND_RENEW:
`id = … AND state = 'pending'`). With the statistics taken when every message was sent,
PostgreSQL estimated « pending » at one row and read the state index (or outbox_pending_idx,
state first) instead of the key, visiting every entry left under « pending », dead ones
included, for each message: 0.75 ms per message in the load bench, 0.10 by the key
(issue 16, docs/performance.md). The pending rows keep outbox_claimable_idx (id, partial);
the failed ones get outbox_failed_idx (id, partial), built first. Both drops CONCURRENTLY on
PostgreSQL (the web nodes insert messages meanwhile); plain elsewhere (the embedded SQLite)."""

from django.db import migrations, models

from procuration.migration_operations import AddIndexConcurrently, RemoveIndexConcurrently


def _state_indexes(schema_editor, table):
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return sorted(name for name, c in constraints.items()
                  if c["index"] and not c["primary_key"] and not c["unique"] and c["columns"] == ["state"])


def drop_state_index(apps, schema_editor):
    """The field's own index (db_index=True: one btree, and on PostgreSQL its LIKE twin)."""
    table = apps.get_model("procuration", "OutboxEmail")._meta.db_table
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    for name in _state_indexes(schema_editor, table):
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {schema_editor.quote_name(name)}")


def create_state_index(apps, schema_editor):
    model = apps.get_model("procuration", "OutboxEmail")
    old = model._meta.get_field("state")
    new = old.clone()
    new.db_index = True
    new.set_attributes_from_name("state")
    new.model = model
    schema_editor.alter_field(model, old, new)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY run outside a transaction

    dependencies = [
        ("procuration", "0018_electeur_pivot_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboxemail",
            index=models.Index(condition=models.Q(state="failed"), fields=["id"], name="outbox_failed_idx"),
        ),
        RemoveIndexConcurrently(model_name="outboxemail", name="outbox_pending_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboxemail",
                    name="state",
                    field=models.CharField(choices=[("pending", "À envoyer"), ("sent", "Envoyé"),
                                                    ("failed", "Échec définitif")], default="pending",
                                           max_length=10),
                ),
            ],
            database_operations=[migrations.RunPython(drop_state_index, create_state_index)],
        ),
    ]
