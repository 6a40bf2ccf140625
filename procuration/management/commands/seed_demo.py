from django.core.management.base import BaseCommand

from procuration import demo


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--electeurs", type=int, default=100, help="électeurs par commune")

    def handle(self, *args, electeurs, **options):
        result = demo.load(electeurs)
        self.stdout.write(self.style.SUCCESS(f"{result['electeurs']} électeurs dans le registre de démonstration."))
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {result['password']}) :")
        for username, role in result["users"]:
            self.stdout.write(f"  {username:<18} {role}")
        self.stdout.write(
            f"Double authentification des comptes police/mairie : code courant sur http://127.0.0.1:8000/dev/totp/ "
            f"(ou secret TOTP {demo.DEMO_TOTP_SECRET} dans une application d'authentification)."
        )
        self.stdout.write(
            "Back office national : http://127.0.0.1:8000/backoffice/ (admin). Crédit d'heures des élus : "
            "http://127.0.0.1:8000/elus/espace/ (maire.almayrac, elu.almayrac), simulateur public "
            "http://127.0.0.1:8000/elus/credit-heures/."
        )
        self.stdout.write("Électeurs FranceConnect (fournisseur local, choisir l'identité sur sa page) :")
        for nne, nom, prenoms, *_ in demo.DEMO_ELECTORS:
            self.stdout.write(f"  {prenoms} {nom} (NNE {nne})")
