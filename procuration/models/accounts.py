from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac


class Role(models.TextChoices):
    MANDANT = "mandant", "Électeur (usager FranceConnect)"
    POLICIER = "policier", "Officier ou agent de police judiciaire habilité"
    AGENT_MAIRIE = "agent_mairie", "Agent de mairie (procurations)"
    AGENT_LISTES = "agent_listes", "Agent de mairie (listes électorales et recensement)"
    ADMIN_NATIONAL = "admin_national", "Administrateur national"


class Qualite(models.TextChoices):
    OPJ = "OPJ", "Officier de police judiciaire"
    APJ = "APJ", "Agent de police judiciaire"


class User(AbstractUser):
    """One account model for every portal; the role decides which portal a person may enter.

    first_name holds the prénoms and last_name the nom de naissance, as FranceConnect gives them.
    """

    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.MANDANT)

    # État civil given by the identity provider (FranceConnect / France Identité).
    birthdate = models.DateField("date de naissance", null=True, blank=True)
    gender = models.CharField("sexe", max_length=1, blank=True, choices=[("F", "Féminin"), ("M", "Masculin")])
    birthplace = models.CharField("lieu de naissance (code COG)", max_length=5, blank=True)
    birthcountry = models.CharField("pays de naissance (code COG)", max_length=5, blank=True)
    identity_provider = models.CharField("fournisseur d'identité", max_length=30, blank=True)

    # Police and gendarmerie.
    qualite = models.CharField("qualité", max_length=3, choices=Qualite.choices, blank=True)
    unite = models.CharField("unité", max_length=200, blank=True)
    # Where the procurations this officer's unit validates are established (a consulate or an
    # authority abroad: abroad; a commissariat, a brigade, a tribunal: France). A fact of the unit,
    # never the mandant's answer.
    unite_a_l_etranger = models.BooleanField("unité à l'étranger (consulat)", default=False, db_default=False)
    matricule = models.CharField("matricule", max_length=30, blank=True)
    is_unit_admin = models.BooleanField("administrateur de l'unité", default=False)

    # Mairie agents (procurations and listes).
    commune = models.ForeignKey(
        "procuration.Commune", verbose_name="commune", null=True, blank=True, on_delete=models.PROTECT, related_name="agents"
    )
    is_commune_admin = models.BooleanField("administrateur de la commune", default=False)

    # Raised to end every session the account has open (procuration.activation.set_active, when it is
    # disabled): it is in the session's hash (_get_session_auth_hash), so a session opened before no
    # longer matches, even once the account is enabled again.
    session_generation = models.PositiveIntegerField(
        "génération des sessions", default=0, db_default=0, editable=False,
        help_text="Augmentée à la désactivation du compte : ses sessions ouvertes ne valent plus.",
    )

    class Meta:
        verbose_name = "utilisateur"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["agent_mairie", "agent_listes"]) | models.Q(commune__isnull=False),
                name="agent_has_commune",
            ),
        ]

    def _get_session_auth_hash(self, secret=None):
        """Django's hash of the password, which every request's session must carry
        (django.contrib.auth.get_user), with the session generation once it was raised: a new password
        or a disabled account ends the sessions. Generation 0 gives Django's own hash."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac("django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
                           f"{self.password}:{self.session_generation}", secret=secret, algorithm="sha256").hexdigest()

    def __str__(self):
        full = self.get_full_name()
        return full or self.username

    def get_full_name(self):
        return " ".join(part for part in (self.first_name, self.last_name.upper()) if part).strip()

    @property
    def officer_label(self) -> str:
        """How an act names the officer: nom, prénom, qualité (and unité)."""
        label = f"{self.last_name.upper()} {self.first_name}".strip()
        if self.qualite:
            label += f", {self.get_qualite_display()}"
        if self.unite:
            label += f" ({self.unite})"
        return label

    @property
    def has_mandat(self) -> bool:
        """An élu of the commune (elus.Mandat): the mairie portal shows their crédit d'heures."""
        return hasattr(self, "mandat")

    def has_role(self, *roles: str) -> bool:
        return self.is_authenticated and self.is_active and self.role in roles


def unite_a_l_etranger(unite: str) -> bool | None:
    """Whether the unit named `unite` is declared abroad (True) or in France (False), as its officers'
    accounts say; None when it has no officer yet, or when its accounts disagree."""
    values = set(User.objects.filter(role=Role.POLICIER, unite=unite).values_list("unite_a_l_etranger", flat=True))
    return values.pop() if len(values) == 1 else None
