"""The mairie's search keys (procuration.search, model procuration.models.search.SearchKey): one row
per word of the folded names of a procuration's mandant and of its mandataire, under a btree index
(commune, word), so a search by name reads only the commune's matches. A new table (the previous
release ignores it); the existing procurations are filled here, by batches of pk.

Rows the previous release writes during a rolling deploy have no keys: run
`manage.py rebuild_search_keys` once the new release serves (docs/ops/operations.md)."""

import django.db.models.deletion
from django.db import migrations, models

import procuration.models.search


def fill(apps, schema_editor):
    # The words as procuration.search.words_of cuts them (copied: a migration does not follow later code).
    Procuration = apps.get_model("procuration", "Procuration")
    SearchKey = apps.get_model("procuration", "SearchKey")
    rows = Procuration.objects.order_by("pk").values_list(
        "pk", "commune_id", "mandant__noms_recherche", "mandataire__noms_recherche"
    )
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:2000]):
        SearchKey.objects.bulk_create([
            SearchKey(commune_id=commune_id, token=w, procuration_id=pk, mandataire=role)
            for pk, commune_id, mandant, mandataire in batch
            for role, noms in ((False, mandant), (True, mandataire)) for w in sorted({w[:150] for w in (noms or "").split()})
        ], batch_size=5000)
        last = batch[-1][0]


class Migration(migrations.Migration):

    dependencies = [
        ("procuration", "0014_procuration_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", procuration.models.search.TokenField(max_length=150, verbose_name="mot")),
                ("mandataire", models.BooleanField()),
                ("commune", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                              related_name="+", to="procuration.commune")),
                ("procuration", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                  to="procuration.procuration")),
            ],
            options={
                "verbose_name": "clé de recherche",
                "indexes": [models.Index(fields=["commune", "token", "procuration", "mandataire"],
                                         name="searchkey_commune_token_idx")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
