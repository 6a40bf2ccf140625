"""Matching a login to the register (procuration.registry.electeur_for_pivot, on every page of the
mandant's portal) reads the electors born on the same day, at the same place, of the same sexe. The
index on the date alone made PostgreSQL read every elector born that day and filter the rest: about
1,600 rows with France's register (49 M electors over ≈ 30,000 dates), 20 to 70 in the load bench.
electeur_pivot_idx (date_naissance, code_lieu_naissance, sexe) goes to the few that match; it also
serves the date alone, so electeur_naissance_idx, its prefix, is dropped after. Both CONCURRENTLY on
PostgreSQL (the register is read and imported meanwhile); plain elsewhere (the embedded SQLite)."""

from django.db import migrations, models

from procuration.migration_operations import AddIndexConcurrently, RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction

    dependencies = [
        ("procuration", "0017_procuration_queue_order_idx"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="electeur",
            index=models.Index(fields=["date_naissance", "code_lieu_naissance", "sexe"], name="electeur_pivot_idx"),
        ),
        RemoveIndexConcurrently(model_name="electeur", name="electeur_naissance_idx"),
    ]
