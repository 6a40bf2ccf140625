"""Walk the audit trail's hash chains and name the first broken link of each (docs/security.md)."""

from django.core.management.base import BaseCommand, CommandError

from procuration.audit import broken_links
from procuration.models import AuditLog, ProcurationEvent


class Command(BaseCommand):
    help = "Vérifie les chaînes d'empreintes du journal d'audit et des historiques de procuration."

    def handle(self, *args, **options):
        problems = list(broken_links())
        if problems:
            for problem in problems:
                self.stderr.write(f"Maillon rompu : {problem}")
            raise CommandError(f"{len(problems)} chaîne(s) rompue(s).")
        dossiers = ProcurationEvent.objects.values("dossier").distinct().count()
        self.stdout.write(
            f"Journal intègre : {AuditLog.objects.count()} entrées d'audit, "
            f"{ProcurationEvent.objects.count()} événements dans {dossiers} chaînes de dossier."
        )
