"""The mairie's search by name (mairie.listing.search_queryset) finds the electors first, by a
substring of their folded names (noms_recherche LIKE '%…%'): a pg_trgm GIN index serves it on
PostgreSQL. The embedded default's SQLite has neither the extension nor GIN: nothing is done there.

The index is not declared in Electeur.Meta: SQLite rebuilds a table to alter it and would then try
to create a GIN index. It is built CONCURRENTLY (the register's imports go on meanwhile)."""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from procuration.migration_operations import TrigramExtension

NOMS_TRGM = GinIndex(fields=["noms_recherche"], opclasses=["gin_trgm_ops"], name="electeur_noms_trgm_idx")


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("procuration", "Electeur"), NOMS_TRGM, concurrently=True)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("procuration", "Electeur"), NOMS_TRGM, concurrently=True)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0012_outbox_lease"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_index, remove_index),
    ]
