"""The mairie's queue reads its page in the order (autorite_at, pk) within a commune and a status
and stops at the page (mairie.listing.queue_page, its total from procuration.counts): a btree on
(commune, status, autorite_at, id) serves that order whole, the demandes « en attente » (no
autorite_at: their order is the id's) included. It supersedes proc_queue_idx (commune, status,
autorite_at), its prefix, dropped after. Both CONCURRENTLY on PostgreSQL (the procurations are
written meanwhile); plain elsewhere (the embedded SQLite)."""

from django.db import migrations, models

from procuration.migration_operations import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0016_procuration_commune_created_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="procuration",
            index=models.Index(fields=["commune", "status", "autorite_at", "id"], name="proc_queue_order_idx"),
        ),
        RemoveIndexConcurrently(model_name="procuration", name="proc_queue_idx"),
    ]
