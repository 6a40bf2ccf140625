"""The mairie's search walks a commune's procurations in the page's order (created_at DESC, pk
DESC) when a search matches more than mairie.listing.SEARCH_COUNT_CAP of them: a btree on
(commune, created_at, id), read backwards. Built CONCURRENTLY on PostgreSQL (the procurations are
written meanwhile); a plain CREATE INDEX elsewhere (the embedded SQLite)."""

from django.db import migrations, models

from procuration.migration_operations import AddIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0015_searchkey"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="procuration",
            index=models.Index(fields=["commune", "created_at", "id"], name="proc_commune_created_idx"),
        ),
    ]
