"""The dashboard's figures per commune, scrutin and status kept as they change (procuration.counts,
docs/performance.md « Dashboard counts »): the change rows' table, filled here from the
procurations, and an index for the demandes « en attente » of a commune past their last day.

The previous release, still running during a rolling deploy, changes statuses without writing the
change rows: run `manage.py rebuild_procuration_counts` once the new release serves every request
(docs/ops/operations.md). The index is built CONCURRENTLY on PostgreSQL (a plain CREATE INDEX on
SQLite, the embedded default)."""

import django.db.models.deletion
from django.db import migrations, models, transaction
from django.db.models import Count

from procuration.migration_operations import AddIndexConcurrently


def fill(apps, schema_editor):
    """What procuration.counts.rebuild does, with this migration's models."""
    Procuration = apps.get_model("procuration", "Procuration")
    ProcurationCount = apps.get_model("procuration", "ProcurationCount")
    alias = schema_editor.connection.alias
    with transaction.atomic(using=alias):
        figures = (Procuration.objects.using(alias).exclude(status="brouillon")
                   .values_list("commune_id", "scrutin_id", "status").annotate(n=Count("pk")).order_by())
        ProcurationCount.objects.using(alias).bulk_create(
            [ProcurationCount(commune_id=c, scrutin_id=s, status=st, n=n) for c, s, st, n in figures],
            batch_size=2000,
        )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0013_electeur_noms_trigram_idx"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProcurationCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=20, verbose_name="statut enregistré")),
                ("n", models.BigIntegerField(verbose_name="variation du nombre de procurations")),
                ("commune", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                              to="procuration.commune")),
                ("scrutin", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                              related_name="+", to="procuration.scrutin")),
            ],
            options={
                "verbose_name": "compte de procurations",
                "indexes": [models.Index(fields=["commune", "scrutin", "status"], name="proc_count_key_idx")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        AddIndexConcurrently(
            model_name="procuration",
            index=models.Index(fields=["commune", "status", "submitted_at"], name="proc_commune_submitted_idx"),
        ),
    ]
