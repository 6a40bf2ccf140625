"""The mairie's search walks a commune's procurations in the page's order (created_at DESC, pk
DESC) when a search matches more than mairie.listing.SEARCH_COUNT_CAP of them: a btree on
(commune, created_at, id), read backwards. Built CONCURRENTLY on PostgreSQL (the procurations are
written meanwhile); a plain CREATE INDEX elsewhere (the embedded SQLite)."""

from django.db import migrations, models

INDEX = models.Index(fields=["commune", "created_at", "id"], name="proc_commune_created_idx")


def add_index(apps, schema_editor):
    model = apps.get_model("procuration", "Procuration")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(model, INDEX, concurrently=True)
    else:
        schema_editor.add_index(model, INDEX)


def remove_index(apps, schema_editor):
    model = apps.get_model("procuration", "Procuration")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(model, INDEX, concurrently=True)
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0015_searchkey"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="procuration", index=INDEX)],
            database_operations=[migrations.RunPython(add_index, remove_index)],
        ),
    ]
