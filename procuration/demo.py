"""Demo data: a few communes with bureaux de vote, a few hundred electors, an upcoming scrutin
and one user per role. Deterministic (fixed seed) and idempotent."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from procuration.identity import FRANCE
from procuration.models import BureauDeVote, Commune, Electeur, Liste, Role, Scrutin, ScrutinType, User

DEMO_PASSWORD = "demo-Procuration-2026"
# TOTP secret shared by the demo staff accounts (MFA is mandatory for staff); the current code
# is shown at /dev/totp/ in development, or any authenticator app can use this secret.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"

COMMUNES = [
    ("81005", "Almayrac", "81", 380, 2),
    ("38214", "Loisieux", "38", 290, 1),
    ("69266", "Villeurbanne", "69", 156000, 4),
]
NOMS = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
        "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
        "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE"]
PRENOMS_F = ["Marie", "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Jeanne", "Louise", "Alice"]
PRENOMS_M = ["Jean", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Paul", "Jules", "Adam", "Nathan"]

# The people the local OIDC provider logs in (see scripts/oidc_users.json).
DEMO_ELECTORS = [
    # nne, nom, prenoms, sexe, date_naissance, commune, lieu, lieu (code COG; all born in France)
    ("100000001", "DUPONT", "Marie Claire", "F", datetime.date(1980, 5, 12), "81005", "Albi", "81004"),
    ("100000002", "LAMBERT", "Paul", "M", datetime.date(1975, 2, 3), "81005", "Toulouse", "31555"),
    ("100000003", "FAURE", "Jeanne", "F", datetime.date(1990, 11, 23), "38214", "Grenoble", "38185"),
]


def next_scrutin_dates(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The Sunday about 60 days ahead, and the one two weeks later."""
    first = today + datetime.timedelta(days=60)
    first += datetime.timedelta(days=(6 - first.weekday()) % 7)
    return first, first + datetime.timedelta(days=14)


@transaction.atomic
def load(electors_per_commune: int = 100) -> dict:
    rng = random.Random(2026)
    communes = {}
    for code, nom, dep, pop, nb_bureaux in COMMUNES:
        commune, _ = Commune.objects.get_or_create(
            code_insee=code,
            defaults={"nom": nom, "departement": dep, "population": pop, "email_service": f"elections@{nom.lower()}.example"},
        )
        communes[code] = commune
        for n in range(1, nb_bureaux + 1):
            BureauDeVote.objects.get_or_create(
                commune=commune, numero=n, defaults={"nom": "Mairie" if n == 1 else f"École n° {n}"}
            )
    today = timezone.localdate()
    t1, t2 = next_scrutin_dates(today)
    Scrutin.objects.get_or_create(
        libelle="Élection de démonstration",
        defaults={"type": ScrutinType.MUNICIPALES, "date_tour1": t1, "date_tour2": t2},
    )
    Scrutin.objects.get_or_create(
        libelle="Élection présidentielle 2027",
        defaults={"type": ScrutinType.PRESIDENTIELLE, "date_tour1": datetime.date(2027, 4, 11),
                  "date_tour2": datetime.date(2027, 4, 25)},
    )
    for nne, nom, prenoms, sexe, naissance, code, lieu, code_lieu in DEMO_ELECTORS:
        commune = communes[code]
        Electeur.objects.update_or_create(
            nne=nne,
            defaults={"nom": nom, "prenoms": prenoms, "sexe": sexe, "date_naissance": naissance, "commune": commune,
                      "bureau": commune.bureaux.first(), "lieu_naissance": lieu, "code_lieu_naissance": code_lieu,
                      "code_pays_naissance": FRANCE, "adresse": f"1 place de la Mairie, {commune.nom}"},
        )
    nne_counter = 200000000
    for commune in communes.values():
        bureaux = list(commune.bureaux.all())
        existing = commune.electeurs.count()
        new = []
        for _ in range(existing, electors_per_commune):
            sexe = rng.choice("FM")
            nne_counter += 1
            new.append(Electeur(
                nne=f"{int(commune.code_insee[:2]) * 10_000_000 + nne_counter % 10_000_000:09d}",
                nom=rng.choice(NOMS),
                prenoms=rng.choice(PRENOMS_F if sexe == "F" else PRENOMS_M),
                sexe=sexe,
                date_naissance=datetime.date(rng.randint(1940, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                lieu_naissance=commune.nom,
                code_lieu_naissance=commune.code_insee,
                code_pays_naissance=FRANCE,
                commune=commune,
                bureau=rng.choice(bureaux),
                liste=Liste.COMPLEMENTAIRE if rng.random() < 0.03 else Liste.PRINCIPALE,
                adresse=f"{rng.randint(1, 80)} rue de la République, {commune.nom}",
            ))
        for e in new:  # bulk_create does not call save()
            e.noms_recherche = e.search_key()
        Electeur.objects.bulk_create(new, ignore_conflicts=True)

    almayrac = communes["81005"]
    users = [
        dict(username="admin", role=Role.ADMIN_NATIONAL, first_name="Alex", last_name="ADMIN", is_staff=True,
             is_superuser=True),
        dict(username="opj.martin", role=Role.POLICIER, first_name="Julie", last_name="MARTIN", qualite="OPJ",
             unite="Commissariat d'Albi", matricule="1234567"),
        dict(username="apj.bernard", role=Role.POLICIER, first_name="Marc", last_name="BERNARD", qualite="APJ",
             unite="Brigade de gendarmerie de Cordes-sur-Ciel", matricule="7654321"),
        dict(username="maire.almayrac", role=Role.AGENT_MAIRIE, first_name="Anne", last_name="ROUX", commune=almayrac,
             is_commune_admin=True),
        dict(username="agent.almayrac", role=Role.AGENT_MAIRIE, first_name="Luc", last_name="GIRARD", commune=almayrac),
        dict(username="agent.loisieux", role=Role.AGENT_MAIRIE, first_name="Emma", last_name="BONNET",
             commune=communes["38214"], is_commune_admin=True),
        dict(username="elu.almayrac", role=Role.AGENT_MAIRIE, first_name="Hugo", last_name="FAURE", commune=almayrac),
        dict(username="listes.almayrac", role=Role.AGENT_LISTES, first_name="Nora", last_name="SIMON", commune=almayrac,
             is_commune_admin=True),
    ]
    created = []
    for data in users:
        username = data.pop("username")
        user, was_created = User.objects.get_or_create(username=username, defaults=data)
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.email = f"{username}@demo.example"
            user.save()
            from procuration.access import MFA_ROLES

            if user.role in MFA_ROLES:  # the national administrator too (/admin/ needs TOTP)
                from allauth.mfa.totp.internal.auth import TOTP

                TOTP.activate(user, DEMO_TOTP_SECRET)
        created.append((username, user.get_role_display()))
    # Élus (elus/): the maire and a conseiller municipal at 80 % part time see their crédit d'heures.
    from elus.models import Mandat

    for username, fonction, temps, employeur in (
        ("maire.almayrac", "maire", 100, "Coopérative agricole du Ségala"),
        ("elu.almayrac", "conseiller", 80, "Boulangerie Roux, Albi"),
    ):
        Mandat.objects.get_or_create(user=User.objects.get(username=username),
                                     defaults={"fonction": fonction, "temps_travail": temps, "employeur": employeur})
    return {"users": created, "password": DEMO_PASSWORD, "electeurs": Electeur.objects.count()}
