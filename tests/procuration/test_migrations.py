"""The models and their migrations agree: a field, a choice, a default or a constraint changed in
the code without its migration would leave the database with another schema than the one the
code believes in. (Put first in scripts/mutation.sh's table for the model modules: it judges in
seconds a mutant of a model's field.)"""

import io

from django.core.management import call_command


def test_every_model_change_has_its_migration(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert out.getvalue() == "No changes detected\n"


def test_the_search_by_name_has_a_trigram_index_on_postgresql(db):
    """Migration 0013: pg_trgm and a GIN index on electeur.noms_recherche, which the substring
    filter of the mairie's search (noms_recherche LIKE '%…%', Django's __contains) can use."""
    from django.db import connection

    from procuration.models import Electeur

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'electeur_noms_trgm_idx'")
        (indexdef,) = cursor.fetchone()
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: make the planner show the index
    assert "USING gin (noms_recherche gin_trgm_ops)" in indexdef
    assert "electeur_noms_trgm_idx" in Electeur.objects.filter(noms_recherche__contains="lecoeur").explain()
