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
