from django.core.management.base import BaseCommand

from procuration import counts


class Command(BaseCommand):
    help = (
        "Recalcule les comptes de procurations par commune, scrutin et statut à partir des procurations "
        "(après un chargement en masse, ou après le déploiement qui ajoute la table)."
    )

    def handle(self, *args, **options):
        keys = counts.rebuild()
        self.stdout.write(self.style.SUCCESS(f"{keys} comptes recalculés (commune, scrutin, statut)."))
