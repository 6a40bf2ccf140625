"""Factories for the shared domain. One trait per procuration state; one user per role."""

import datetime

import factory
from django.db import transaction
from django.utils import timezone

from procuration import counts
from procuration.models import (
    BureauDeVote,
    Commune,
    Electeur,
    Origine,
    Procuration,
    Role,
    Scrutin,
    ScrutinType,
    Status,
    User,
)
from procuration.reference import generate_reference

PASSWORD = "mot-de-passe-de-test-42"


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code_insee",)

    code_insee = factory.Sequence(lambda n: f"{10000 + n:05d}")
    nom = factory.Sequence(lambda n: f"Commune {n}")
    departement = "81"
    population = 1200
    email_service = factory.LazyAttribute(lambda o: f"elections-{o.code_insee}@commune.example")


class BureauDeVoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BureauDeVote

    commune = factory.SubFactory(CommuneFactory)
    numero = factory.Sequence(lambda n: n + 1)
    nom = factory.LazyAttribute(lambda o: f"Bureau {o.numero}")


class ElecteurFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Electeur

    nne = factory.Sequence(lambda n: f"{300000000 + n:09d}")
    nom = factory.Faker("last_name", locale="fr_FR")
    prenoms = factory.Faker("first_name", locale="fr_FR")
    sexe = "F"
    date_naissance = datetime.date(1980, 1, 15)
    lieu_naissance = "Albi"
    code_lieu_naissance = "81004"
    code_pays_naissance = "99100"
    commune = factory.SubFactory(CommuneFactory)
    bureau = factory.LazyAttribute(
        lambda o: BureauDeVote.objects.get_or_create(commune=o.commune, numero=1, defaults={"nom": "Bureau 1"})[0]
    )
    adresse = "1 place de la Mairie"


def _next_sunday(days: int) -> datetime.date:
    d = timezone.localdate() + datetime.timedelta(days=days)
    return d + datetime.timedelta(days=(6 - d.weekday()) % 7)


class ScrutinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scrutin

    type = ScrutinType.MUNICIPALES
    libelle = factory.Sequence(lambda n: f"Scrutin {n}")
    date_tour1 = factory.LazyFunction(lambda: _next_sunday(40))
    date_tour2 = factory.LazyAttribute(lambda o: o.date_tour1 + datetime.timedelta(days=7))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.fr")
    role = Role.MANDANT

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        """Staff log in with a password (PASSWORD, or the one passed); an elector has none: an
        unusable one, as after a FranceConnect sign-up (procuration/access.py)."""
        from procuration.access import logs_in_with_password

        if extracted is None and not logs_in_with_password(obj):
            obj.set_unusable_password()
        else:
            obj.set_password(extracted or PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def totp(obj, create, extracted, **kwargs):
        """Staff get a TOTP authenticator (MFA is mandatory for them); obj.totp_secret keeps
        the secret so a test can compute a code. Pass totp=False to build one without."""
        from procuration.access import MFA_ROLES

        if not create or obj.role not in MFA_ROLES or extracted is False:
            return
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        obj.totp_secret = generate_totp_secret()
        TOTP.activate(obj, obj.totp_secret)

    class Params:
        policier = factory.Trait(role=Role.POLICIER, qualite="OPJ", unite="Commissariat central", matricule="1234567")
        agent_mairie = factory.Trait(role=Role.AGENT_MAIRIE, commune=factory.SubFactory(CommuneFactory))
        commune_admin = factory.Trait(
            role=Role.AGENT_MAIRIE, commune=factory.SubFactory(CommuneFactory), is_commune_admin=True
        )
        agent_listes = factory.Trait(role=Role.AGENT_LISTES, commune=factory.SubFactory(CommuneFactory))
        admin_national = factory.Trait(role=Role.ADMIN_NATIONAL, is_staff=True, is_superuser=True)


class ProcurationFactory(factory.django.DjangoModelFactory):
    """A procuration in a given state, built directly (transitions are tested on their own)."""

    class Meta:
        model = Procuration

    mandant = factory.SubFactory(ElecteurFactory)
    commune = factory.LazyAttribute(lambda o: o.mandant.commune)
    mandataire = factory.SubFactory(ElecteurFactory, commune=factory.SelfAttribute("..commune"))
    email_contact = "mandant@example.fr"
    scrutin = factory.SubFactory(ScrutinFactory)
    tour1 = True
    tour2 = True
    valid_from = factory.LazyAttribute(lambda o: o.scrutin.date_tour1)
    valid_until = factory.LazyAttribute(lambda o: o.scrutin.date_tour2 or o.scrutin.date_tour1)
    status = Status.BROUILLON

    class Params:
        en_attente = factory.Trait(
            status=Status.EN_ATTENTE,
            reference=factory.LazyFunction(generate_reference),
            submitted_at=factory.LazyFunction(timezone.now),
        )
        validee_autorite = factory.Trait(
            en_attente=True,
            status=Status.VALIDEE_AUTORITE,
            autorite_at=factory.LazyFunction(timezone.now),
            autorite_label="MARTIN Julie, Officier de police judiciaire",
        )
        validee_mairie = factory.Trait(
            validee_autorite=True, status=Status.VALIDEE_MAIRIE, mairie_at=factory.LazyFunction(timezone.now)
        )
        cerfa = factory.Trait(origine=Origine.CERFA_PAPIER)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """A row inserted in its state is a creation like any other: its figures come with it
        (procuration.counts), in the same transaction."""
        with transaction.atomic():
            p = super()._create(model_class, *args, **kwargs)
            counts.created(p)
        return p


def set_status(p: Procuration, status: str) -> None:
    """A test's shortcut past the transitions: `p` put in `status` directly, its figures with it
    (procuration.counts), as any change of status."""
    with transaction.atomic():
        from_status = Procuration.objects.select_for_update().values_list("status", flat=True).get(pk=p.pk)
        Procuration.objects.filter(pk=p.pk).update(status=status)
        p.status = status
        counts.moved(p, from_status=from_status)


def totp_code(secret: str) -> str:
    """The current TOTP code for a secret, as the officer's authenticator app would show it."""
    from procuration.mfa import current_totp_code

    return current_totp_code(secret)
