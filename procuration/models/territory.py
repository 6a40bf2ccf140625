from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction

from procuration.fixed_select import CompiledOnce

VOWELS = "AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ"
# Communes whose initial h is aspirated (no elision: « mairie de Haguenau »); any other h is mute.
H_ASPIRE = frozenset({"Haguenau", "Halluin", "Hayange", "Hem", "Hénin-Beaumont", "Hautmont"})


def de(word: str) -> str:
    """« de » before a word, elided before a vowel or a mute h: d'accepter, d'invalider, de valider."""
    initial = word[:1].upper()
    return f"d'{word}" if initial in VOWELS or initial == "H" else f"de {word}"


def de_commune(nom: str) -> str:
    """« de » + the commune's name, with the French elision and the contracted articles:
    d'Almayrac, d'Hyères, de Paris, de Haguenau, du Mans, des Ulis, de La Rochelle, de L'Isle-Adam."""
    nom = nom.strip()
    if nom.startswith("Le "):
        return f"du {nom[3:]}"
    if nom.startswith("Les "):
        return f"des {nom[4:]}"
    if nom in H_ASPIRE:
        return f"de {nom}"
    return de(nom)


class Commune(models.Model):
    code_insee = models.CharField("code INSEE", max_length=5, unique=True)
    nom = models.CharField("nom", max_length=150)
    departement = models.CharField("département", max_length=3, blank=True)
    population = models.PositiveIntegerField("population", default=0)
    auto_validation = models.BooleanField(
        "validation automatique des procurations",
        default=False,
        help_text="Valider sans intervention d'un agent quand tous les contrôles automatiques sont satisfaits.",
    )
    email_service = models.EmailField("adresse du service instructeur", blank=True)
    # Crédit d'heures des élus salariés (procuration/credit_heures.py): set by the conseil municipal.
    majoration_credit_heures = models.PositiveSmallIntegerField(
        "majoration du crédit d'heures des élus (%)", default=0, db_default=0,
        validators=[MinValueValidator(0), MaxValueValidator(30)],
        help_text="Décidée par le conseil municipal, 30 % au plus.",
    )

    class Meta:
        ordering = ["nom"]

    def __str__(self):
        return f"{self.nom} ({self.code_insee})"

    @property
    def de_nom(self) -> str:
        """« mairie {{ commune.de_nom }} » → mairie d'Almayrac, mairie du Mans (see de_commune)."""
        return de_commune(self.nom)


class BureauDeVote(models.Model):
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="bureaux")
    numero = models.PositiveIntegerField("numéro")
    nom = models.CharField("nom", max_length=200)
    adresse = models.CharField("adresse", max_length=300, blank=True)

    class Meta:
        verbose_name = "bureau de vote"
        verbose_name_plural = "bureaux de vote"
        ordering = ["commune", "numero"]
        constraints = [models.UniqueConstraint(fields=["commune", "numero"], name="unique_bureau_per_commune")]

    def __str__(self):
        return f"Bureau n° {self.numero} — {self.nom}"


class Sexe(models.TextChoices):
    F = "F", "Féminin"
    M = "M", "Masculin"


class Liste(models.TextChoices):
    PRINCIPALE = "principale", "Liste principale"
    COMPLEMENTAIRE = "complementaire", "Liste complémentaire (citoyen de l'Union européenne)"
    CONSULAIRE = "consulaire", "Liste électorale consulaire"


FRANCAISE = "FR"
# The other member states of the European Union (ISO 3166-1 alpha-2): their nationals register on
# the listes complémentaires (municipales, européennes), never on the liste principale.
ETATS_MEMBRES_UE = {
    "DE": "Allemagne", "AT": "Autriche", "BE": "Belgique", "BG": "Bulgarie", "CY": "Chypre", "HR": "Croatie",
    "DK": "Danemark", "ES": "Espagne", "EE": "Estonie", "FI": "Finlande", "GR": "Grèce", "HU": "Hongrie",
    "IE": "Irlande", "IT": "Italie", "LV": "Lettonie", "LT": "Lituanie", "LU": "Luxembourg", "MT": "Malte",
    "NL": "Pays-Bas", "PL": "Pologne", "PT": "Portugal", "CZ": "République tchèque", "RO": "Roumanie",
    "SK": "Slovaquie", "SI": "Slovénie", "SE": "Suède",
}


def listes_de_la_nationalite(nationalite: str) -> tuple[str, ...]:
    """The lists a nationality may be registered on, the one home of the rule (read by the ILE,
    listes.rules.ile_listes, and by the register's import, procuration.reu): French → the liste
    principale (L.11) or, living abroad, the liste électorale consulaire (loi organique 76-97); a
    national of another EU member state → a liste complémentaire only (LO227-1 for the municipales,
    loi 77-729 art. 2-1 for the européennes); any other nationality → none. `nationalite`: an ISO
    3166-1 alpha-2 code, any case."""
    code = (nationalite or "").strip().upper()
    if code == FRANCAISE:
        return (Liste.PRINCIPALE, Liste.CONSULAIRE)
    if code in ETATS_MEMBRES_UE:
        return (Liste.COMPLEMENTAIRE,)
    return ()


class Electeur(models.Model):
    """The local copy of the electoral register (REU extract)."""

    nne = models.CharField("numéro national d'électeur", max_length=9, unique=True)
    nom = models.CharField("nom de naissance", max_length=150)
    nom_usage = models.CharField("nom d'usage", max_length=150, blank=True)
    prenoms = models.CharField("prénoms", max_length=200)
    sexe = models.CharField("sexe", max_length=1, choices=Sexe.choices)
    date_naissance = models.DateField("date de naissance")
    lieu_naissance = models.CharField("lieu de naissance", max_length=150, blank=True)
    # The identité pivot's place and country of birth (COG codes, as FranceConnect gives them):
    # a login matches an elector only on both (procuration.identity.Pivot).
    code_lieu_naissance = models.CharField(
        "lieu de naissance (code COG)", max_length=5, blank=True, help_text="Vide pour une personne née à l'étranger."
    )
    code_pays_naissance = models.CharField("pays de naissance (code COG)", max_length=5, blank=True,
                                           help_text="99100 pour la France.")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="electeurs")
    bureau = models.ForeignKey(BureauDeVote, on_delete=models.PROTECT, related_name="electeurs", null=True, blank=True)
    liste = models.CharField("liste", max_length=20, choices=Liste.choices, default=Liste.PRINCIPALE)
    # A national of another EU member state is on the liste complémentaire of the municipales, of the
    # européennes, or both (listes.rules.ile_listes); `nationalite` is the ISO code ("FR"), empty when
    # the register extract did not give it.
    nationalite = models.CharField("nationalité (code ISO)", max_length=2, blank=True, default="", db_default="")
    complementaire_municipales = models.BooleanField(
        "inscrit sur la liste complémentaire municipale", default=False, db_default=False
    )
    complementaire_europeennes = models.BooleanField(
        "inscrit sur la liste complémentaire européenne", default=False, db_default=False
    )
    adresse = models.CharField("adresse", max_length=300, blank=True)
    inscrit = models.BooleanField("inscrit", default=True, help_text="Faux après une radiation.")
    sous_tutelle = models.BooleanField("majeur sous tutelle", default=False)
    tuteur = models.ForeignKey(
        "self", verbose_name="tuteur ou curateur", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    droits_civiques = models.BooleanField("jouit de ses droits civiques", default=True)
    deces = models.BooleanField("décédé", default=False)
    # The names as procuration.normalize.fold() reads them (nom, nom d'usage, prénoms), so a search
    # by name is accent- and case-insensitive on every database: kept by save() and search_key().
    noms_recherche = models.CharField("noms (forme de recherche)", max_length=600, blank=True, editable=False,
                                      default="", db_default="")

    class Meta:
        verbose_name = "électeur"
        ordering = ["nom", "prenoms"]
        indexes = [
            models.Index(fields=["commune", "nom", "date_naissance"], name="electeur_etat_civil_idx"),
            # Matching a FranceConnect identity (procuration/registry.py, _BY_PIVOT): the date, the
            # place and the sexe of birth narrow the register to the few born that day in that commune,
            # where the date alone gave every elector born that day (≈ 1,600 in France's register).
            # Also serves the date alone (its first column).
            models.Index(fields=["date_naissance", "code_lieu_naissance", "sexe"], name="electeur_pivot_idx"),
            # On PostgreSQL, noms_recherche also has a pg_trgm GIN index for the mairie's search by
            # name (migration 0013, not declared here: SQLite would try to rebuild it as GIN).
        ]

    def __str__(self):
        return f"{self.nom.upper()} {self.prenoms} (NNE {self.nne})"

    def save(self, *args, **kwargs):
        from procuration import search

        self.noms_recherche = self.search_key()
        update_fields = kwargs.get("update_fields")
        names_saved = update_fields is None or bool({"nom", "nom_usage", "prenoms"} & set(update_fields))
        if update_fields is not None and names_saved:
            kwargs["update_fields"] = {*update_fields, "noms_recherche"}
        # The mairie's search keys of this elector's procurations follow a change of names, in the
        # same transaction (procuration.search). A new elector has no procuration yet.
        renamed = (not self._state.adding and names_saved
                   and getattr(self, "_saved_noms", None) != self.noms_recherche)
        if renamed:
            with transaction.atomic(savepoint=False):
                super().save(*args, **kwargs)
                search.rewrite_keys_of_electeurs([self.pk])
        else:
            super().save(*args, **kwargs)
        self._saved_noms = self.noms_recherche

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_noms = instance.__dict__.get("noms_recherche")  # None when not read (only(), defer())
        return instance

    def search_key(self) -> str:
        from procuration.normalize import fold

        return fold(f"{self.nom} {self.nom_usage} {self.prenoms}")

    @property
    def premier_prenom(self) -> str:
        return self.prenoms.split()[0] if self.prenoms else ""

    @property
    def peut_voter(self) -> bool:
        return self.inscrit and self.droits_civiques and not self.deces


class ScrutinType(models.TextChoices):
    PRESIDENTIELLE = "presidentielle", "Élection présidentielle"
    LEGISLATIVES = "legislatives", "Élections législatives"
    EUROPEENNES = "europeennes", "Élections européennes"
    MUNICIPALES = "municipales", "Élections municipales"
    DEPARTEMENTALES = "departementales", "Élections départementales"
    REGIONALES = "regionales", "Élections régionales"
    REFERENDUM = "referendum", "Référendum"
    PARTIELLE = "partielle", "Élection partielle"


# The scrutins a citizen of another EU member state, on a liste complémentaire, may not vote at, hence
# may not be mandataire for: every one but the municipales (code électoral LO227-1) and the européennes
# (loi n° 77-729 du 7 juillet 1977, art. 2-1). The shared domain notes name only the présidentielle and
# the législatives; the law also closes the départementales, the régionales and the référendum
# (docs/domain.md). An élection partielle (its kind not recorded) stays open. Read by
# liste_complementaire_fermee, the one home of the rule, and the checks' query of the scrutins it may close.
TYPES_FERMES_A_LA_LISTE_COMPLEMENTAIRE = (
    ScrutinType.PRESIDENTIELLE, ScrutinType.LEGISLATIVES, ScrutinType.DEPARTEMENTALES, ScrutinType.REGIONALES,
    ScrutinType.REFERENDUM,
)
# The scrutins of one liste complémentaire each: open only to its electors.
TYPES_D_UNE_LISTE_COMPLEMENTAIRE = (ScrutinType.MUNICIPALES, ScrutinType.EUROPEENNES)


def liste_complementaire_fermee(scrutin_type: str, municipales: bool, europeennes: bool) -> bool:
    """May an elector on a liste complémentaire NOT be mandataire for a scrutin of this type? The one
    home of the rule (procuration.checks, for a scrutin and for the scrutins of a durée). Closed: the
    TYPES_FERMES_A_LA_LISTE_COMPLEMENTAIRE; and, when the register says which liste(s)
    complémentaire(s) the elector is on (`municipales`, `europeennes`: Electeur.complementaire_*, set
    by an accepted ILE), the municipales without the municipale one (LO227-1) and the européennes
    without the européenne one (loi 77-729, art. 2-1). Neither set: the register did not say (an
    imported REU extract), only the types are closed."""
    if scrutin_type in TYPES_FERMES_A_LA_LISTE_COMPLEMENTAIRE:
        return True
    if not (municipales or europeennes):
        return False
    return ((scrutin_type == ScrutinType.MUNICIPALES and not municipales)
            or (scrutin_type == ScrutinType.EUROPEENNES and not europeennes))


class ScrutinQuerySet(models.QuerySet):
    def concernant(self, commune):
        """The scrutins whose scope includes `commune` (a Commune or its pk): the national ones (no
        commune listed) and those listing it (élection partielle…). The one home of the scope rule:
        the ILE deadlines, the mandant's demande and the CERFA forms all ask it."""
        commune_id = getattr(commune, "pk", commune)
        scoped = Scrutin.communes.through.objects.filter(scrutin_id=models.OuterRef("pk"))
        return self.filter(~models.Exists(scoped) | models.Exists(scoped.filter(commune_id=commune_id)))


class Scrutin(models.Model):
    type = models.CharField("type", max_length=20, choices=ScrutinType.choices)
    libelle = models.CharField("libellé", max_length=200)
    date_tour1 = models.DateField("date du 1er tour")
    date_tour2 = models.DateField("date du 2nd tour", null=True, blank=True)
    # Scope: no commune = national; otherwise only these communes vote (partielles, municipales…).
    communes = models.ManyToManyField(
        Commune, verbose_name="communes concernées", blank=True, related_name="scrutins",
        help_text="Aucune commune : scrutin national.",
    )

    objects = ScrutinQuerySet.as_manager()

    class Meta:
        ordering = ["date_tour1"]

    def __str__(self):
        return self.libelle

    def concerne(self, commune) -> bool:
        """Does this scrutin's scope include `commune`? (ScrutinQuerySet.concernant, compiled once)"""
        return bool(_CONCERNE.tuples(scrutin=self.pk, commune=getattr(commune, "pk", commune)))

    @property
    def national(self) -> bool:
        return not self.communes.exists()

    @property
    def derniere_date(self):
        return self.date_tour2 or self.date_tour1



# Scrutin.concerne, asked by every demande (procuration.validity.periode): the statement of
# Scrutin.objects.concernant(commune).filter(pk=…).exists(), compiled once per process.
_CONCERNE = CompiledOnce(
    lambda key, scrutin, commune: Scrutin.objects.concernant(commune).filter(pk=scrutin).order_by().values_list("pk")[:1],
    "scrutin", "commune",
)
