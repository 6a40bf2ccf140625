"""Re-write the mairie's search keys (procuration.search) from the electors' current names: after a
bulk load that bypassed the ORM, or for the rows the previous release wrote during a rolling deploy."""

from django.core.management.base import BaseCommand, CommandError

from procuration import search
from procuration.models import Commune, Procuration


class Command(BaseCommand):
    help = "Reconstruit les clés de recherche des procurations (recherche par nom de la mairie)."

    def add_arguments(self, parser):
        parser.add_argument("--commune", metavar="CODE_INSEE", help="Seulement les procurations de cette commune.")

    def handle(self, *args, commune=None, **options):
        qs = Procuration.objects.all()
        if commune:
            found = Commune.objects.filter(code_insee=commune).first()
            if found is None:
                raise CommandError(f"Aucune commune de code INSEE {commune}.")
            qs = qs.filter(commune=found)
        done = search.rewrite_keys(qs)
        self.stdout.write(f"Clés de recherche réécrites pour {done} procuration(s).")
