"""Télédossiers of the listes électorales portal (ILE and RCO) and their state machine.

The allowed moves are declared once in TRANSITIONS. Each move is a method of Teledossier that
locks the row, re-checks, changes it, writes the transition log (TeledossierEvent) and schedules
its e-mail in the outbox, all in one transaction (see docs/listes.md).
"""

import secrets
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.functional import cached_property

from procuration.exceptions import DomainError, TransitionError
from procuration.models.territory import de
from procuration.reference import ALPHABET

NUMERO_PREFIX = "A-9-"
NUMERO_LENGTH = 8


def private_storage():
    """Pièces and documents live outside MEDIA_ROOT: only permission-checked views serve them."""
    return FileSystemStorage(location=settings.LISTES_PRIVATE_ROOT, base_url=None)


def _random_name(folder: str, filename: str) -> str:
    ext = Path(filename).suffix.lower()[:5]
    return f"listes/{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


def piece_upload_to(instance, filename):
    return _random_name("pieces", filename)


def document_upload_to(instance, filename):
    return _random_name("documents", filename)


def image_upload_to(instance, filename):
    return _random_name("images", filename)


def generate_numero() -> str:
    return NUMERO_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(NUMERO_LENGTH))


def normalize_numero(raw: str) -> str:
    """'a9nkt2g5kb', 'A-9-nkt2 g5kb' or 'NKT2G5KB' -> 'A-9-NKT2G5KB' (look-alikes mapped)."""
    value = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    if value.startswith("A9") and len(value) == NUMERO_LENGTH + 2:
        value = value[2:]
    value = value.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return NUMERO_PREFIX + value


class Demarche(models.TextChoices):
    ILE = "ile", "Inscription sur les listes électorales"
    RCO = "rco", "Recensement citoyen obligatoire"


class Etat(models.TextChoices):
    TRANSMIS = "transmis", "Dossier transmis au service traitant"
    RECU = "recu", "Dossier reçu par le service traitant"
    CLOS = "clos", "Dossier clos"


class Decision(models.TextChoices):
    AUCUNE = "", "—"
    ACCEPTEE = "acceptee", "Inscription acceptée"
    REFUSEE = "refusee", "Inscription refusée"


class MotifRattachement(models.TextChoices):
    DOMICILE = "domicile", "J'ai mon domicile dans la commune"
    RESIDENCE = "residence", "J'y réside de manière continue depuis au moins 6 mois"
    CONTRIBUABLE = "contribuable", "J'y suis inscrit au rôle des contributions directes communales pour la 2e année"
    GERANT = "gerant", "Je suis gérant ou associé majoritaire d'une société inscrite au rôle depuis 2 ans"


class PieceKind(models.TextChoices):
    IDENTITE = "identite", "Justificatif d'identité (et de nationalité)"
    ATTACHE = "attache", "Justificatif d'attache avec la commune (domicile de moins de 3 mois…)"
    LIVRET = "livret", "Livret de famille"


E = Etat
# name -> (allowed sources, target). The one place the state machine is declared.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "recevoir": (frozenset({E.TRANSMIS}), E.RECU),
    "clore": (frozenset({E.TRANSMIS, E.RECU}), E.CLOS),
    "accepter": (frozenset({E.TRANSMIS, E.RECU}), E.CLOS),
    "refuser": (frozenset({E.TRANSMIS, E.RECU}), E.CLOS),
}
# The action of the TeledossierEvent written when the retention purge (listes.retention) deleted
# pièces the télédossier used: the guichet and the espace say when, instead of a download link.
PIECES_PURGED = "pieces_supprimees"

TRANSITION_VERBS = {
    "recevoir": "marquer comme reçu",
    "clore": "clore",
    "accepter": "accepter",
    "refuser": "refuser",
}


class Piece(models.Model):
    """A pièce justificative uploaded by an usager; kept in the espace and reusable."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listes_pieces")
    kind = models.CharField("nature", max_length=20, choices=PieceKind.choices)
    file = models.FileField(upload_to=piece_upload_to, storage=private_storage, max_length=200)
    original_name = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "pièce justificative"

    def __str__(self):
        return f"{self.get_kind_display()} — {self.original_name}"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(self.content_type, "bin")


class TeledossierQuerySet(models.QuerySet):
    def visible_to(self, user):
        """What a user may see; everything else answers 404."""
        from procuration.models import Role

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.role == Role.MANDANT:
            return self.filter(usager=user)
        if user.role == Role.AGENT_LISTES and user.commune_id:
            return self.filter(commune_id=user.commune_id)
        return self.none()


class Teledossier(models.Model):
    Etat = Etat
    Demarche = Demarche

    numero = models.CharField("numéro de télédossier", max_length=12, unique=True)
    demarche = models.CharField("démarche", max_length=3, choices=Demarche.choices, db_index=True)
    etat = models.CharField("état", max_length=10, choices=Etat.choices, default=Etat.TRANSMIS, db_index=True)
    commune = models.ForeignKey("procuration.Commune", on_delete=models.PROTECT, related_name="teledossiers")
    usager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="teledossiers")
    email = models.EmailField("adresse électronique de l'usager")
    created_at = models.DateTimeField("déposé le", default=timezone.now)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)

    # État civil (from FranceConnect, completed by the usager).
    nom = models.CharField("nom de naissance", max_length=150)
    nom_usage = models.CharField("nom d'usage", max_length=150, blank=True)
    prenoms = models.CharField("prénoms", max_length=200)
    sexe = models.CharField("sexe", max_length=1, choices=[("F", "Féminin"), ("M", "Masculin")])
    date_naissance = models.DateField("date de naissance")
    lieu_naissance = models.CharField("commune de naissance", max_length=150)
    departement_naissance = models.CharField("département ou pays de naissance", max_length=150, blank=True)
    adresse = models.CharField("adresse", max_length=300)
    code_postal = models.CharField("code postal", max_length=5)
    ville = models.CharField("ville", max_length=150)
    telephone = models.CharField("téléphone", max_length=20, blank=True)

    # ILE.
    scrutin = models.ForeignKey("procuration.Scrutin", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    motif_rattachement = models.CharField(
        "motif d'attache avec la commune", max_length=20, choices=MotifRattachement.choices, blank=True
    )
    # Nationality (ISO code): French → liste principale; another EU member state → the listes
    # complémentaires chosen (listes.rules.ile_listes).
    nationalite = models.CharField("nationalité (code ISO)", max_length=2, default="FR", db_default="FR")
    complementaire_municipales = models.BooleanField(
        "liste complémentaire municipale", default=False, db_default=False
    )
    complementaire_europeennes = models.BooleanField(
        "liste complémentaire européenne", default=False, db_default=False
    )
    # The written declaration of a citizen of another EU member state (LO227-4; loi 77-729 art. 2-3):
    # which statements are required is listes.rules.ile_declarations; False for a French national.
    declaration_nationalite = models.BooleanField(
        "déclaration : nationalité de l'État membre", default=False, db_default=False
    )
    declaration_adresse = models.BooleanField("déclaration : adresse en France", default=False, db_default=False)
    declaration_droit_de_vote = models.BooleanField(
        "déclaration : non déchu du droit de vote dans son État", default=False, db_default=False
    )
    declaration_vote_en_france = models.BooleanField(
        "déclaration : vote aux européennes en France seulement", default=False, db_default=False
    )
    decision = models.CharField("décision", max_length=10, choices=Decision.choices, blank=True, default="")
    motif_refus = models.TextField("motif du refus", blank=True)
    electeur = models.ForeignKey(
        "procuration.Electeur", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="électeur inscrit",
    )

    # RCO.
    nationalite_francaise = models.BooleanField("de nationalité française", default=True)
    pere_nom = models.CharField("nom du père", max_length=150, blank=True)
    pere_prenoms = models.CharField("prénoms du père", max_length=200, blank=True)
    mere_nom = models.CharField("nom de naissance de la mère", max_length=150, blank=True)
    mere_prenoms = models.CharField("prénoms de la mère", max_length=200, blank=True)

    pieces = models.ManyToManyField(Piece, related_name="teledossiers", verbose_name="pièces justificatives")

    objects = TeledossierQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "télédossier"
        indexes = [models.Index(fields=["commune", "demarche", "etat", "created_at"], name="teledossier_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision="acceptee") | models.Q(electeur__isnull=False), name="ile_acceptee_electeur"
            ),
        ]

    def __str__(self):
        return f"{self.numero} ({self.get_demarche_display()})"

    @property
    def nationalite_label(self) -> str:
        from listes.rules import ETATS_MEMBRES_UE

        return "Française" if self.nationalite == "FR" else ETATS_MEMBRES_UE.get(self.nationalite, self.nationalite)

    @property
    def listes_label(self) -> str:
        """The list(s) the inscription asks for, in words."""
        if self.nationalite == "FR":
            return "Liste principale"
        asked = [name for name, on in (("municipales", self.complementaire_municipales),
                                       ("européennes", self.complementaire_europeennes)) if on]
        return "Liste complémentaire " + " et ".join(asked) if len(asked) < 2 else (
            "Listes complémentaires municipales et européennes")

    @property
    def declarations_ue(self) -> list[tuple]:
        """The EU citizen's declaration: (rules.Declaration, made) for each statement required
        (listes.rules.ile_declarations); empty for a French national."""
        from listes.rules import ile_declarations

        return [(d, bool(getattr(self, d.field))) for d in ile_declarations(self)]

    @property
    def est_clos(self) -> bool:
        return self.etat == Etat.CLOS

    @property
    def est_ile(self) -> bool:
        return self.demarche == Demarche.ILE

    def can(self, name: str) -> bool:
        if self.etat not in TRANSITIONS[name][0]:
            return False
        if name in ("accepter", "refuser"):
            return self.est_ile
        if name == "clore":
            return not self.est_ile
        return True

    def comments(self):
        return self.events.exclude(comment="")

    @cached_property
    def pieces_purged_at(self):
        """When the retention purge (listes.retention) last deleted pièces of this télédossier, or None."""
        return self.events.filter(action=PIECES_PURGED).order_by("-at").values_list("at", flat=True).first()

    # ---------------------------------------------------------------- creation
    @classmethod
    def deposer(cls, *, usager, pieces, **data) -> "Teledossier":
        """File a télédossier: number assigned, usager and service instructeur e-mailed."""
        from listes import emails, rules

        with transaction.atomic():
            # Lock the usager so that two filings at once cannot both pass the daily cap.
            get_user_model().objects.select_for_update().filter(pk=usager.pk).exists()
            rules.check_teledossiers_today(usager)
            dossier = cls(usager=usager, email=usager.email, **data)
            if dossier.est_ile:  # an EU citizen's written declaration (listes.rules.ile_declarations)
                rules.check_ile_declarations(dossier)
            for _ in range(20):
                dossier.numero = generate_numero()
                try:
                    with transaction.atomic():  # a savepoint: a collision rolls back this insert only
                        dossier.save(force_insert=True)
                    break
                except IntegrityError:
                    if cls.objects.filter(numero=dossier.numero).exists():
                        dossier.pk = None
                        continue
                    raise
            else:
                raise IntegrityError("Impossible d'attribuer un numéro de télédossier unique.")
            dossier.pieces.set(pieces)
            TeledossierEvent.objects.create(
                teledossier=dossier, from_state="", to_state=Etat.TRANSMIS, actor=usager, comment=""
            )
            emails.depot_usager(dossier)
            emails.nouveau_teledossier(dossier)
            # The communes' delta feed and webhooks (api/changes.py), in this same transaction.
            from api.changes import record

            record(dossier, "teledossier.depose")
        return dossier

    # ---------------------------------------------------------------- machinery
    def _transition(
        self,
        name: str,
        *,
        by,
        comment: str,
        changes: Callable[["Teledossier"], list[str]] | None = None,
        check: Callable[["Teledossier"], None] | None = None,
        email: Callable[["Teledossier", "TeledossierEvent"], object] | None = None,
    ) -> bool:
        from listes import emails

        sources, target = TRANSITIONS[name]
        comment = (comment or "").strip()
        if not comment:
            raise DomainError("Rédigez un commentaire pour l'usager : il accompagne chaque changement d'état.")
        with transaction.atomic():
            locked = type(self).objects.select_for_update(of=("self",)).get(pk=self.pk)
            if locked.etat == target and name not in ("accepter", "refuser", "clore"):
                self._copy_from(locked)
                return False
            if locked.etat not in sources:
                raise TransitionError(
                    f"Impossible {de(TRANSITION_VERBS[name])} un dossier dont l'état est « {Etat(locked.etat).label} »."
                )
            if not locked.can(name):
                if locked.est_ile:
                    raise DomainError("Une demande d'inscription se clôt en l'acceptant ou en la refusant.")
                raise DomainError("Cette action ne concerne que les demandes d'inscription sur les listes électorales.")
            if check is not None:
                check(locked)
            from_state = locked.etat
            fields = changes(locked) if changes else []
            locked.etat = target
            if target == Etat.CLOS:
                locked.closed_at = timezone.now()
                fields.append("closed_at")
            locked.save(update_fields=["etat", *fields])
            event = TeledossierEvent.objects.create(
                teledossier=locked, from_state=from_state, to_state=target, actor=by, comment=comment, action=name
            )
            (email or emails.changement_etat)(locked, event)
            # The communes' delta feed and webhooks (api/changes.py), in this same transaction.
            from api.changes import record

            record(locked, f"teledossier.{name}")
        self._copy_from(locked)
        return True

    def _copy_from(self, other: "Teledossier") -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(other, field.attname))

    # ---------------------------------------------------------------- transitions
    def recevoir(self, *, by, comment: str) -> bool:
        return self._transition("recevoir", by=by, comment=comment)

    def clore(self, *, by, comment: str) -> bool:
        return self._transition("clore", by=by, comment=comment)

    def accepter(self, *, by, comment: str) -> bool:
        """ILE accepted: the person is on the commune's list. An elector already on a list (found by
        the usager's identité pivot) keeps their NNE: the registration moves here and the radiation
        from the former commune is recorded; anyone else is a new Electeur with a new NNE."""
        from listes import emails

        def changes(d):
            d.electeur = _inscrire(d, by=by)
            d.decision = Decision.ACCEPTEE
            return ["electeur", "decision"]

        return self._transition("accepter", by=by, comment=comment, changes=changes, email=emails.decision)

    def refuser(self, *, by, motif: str, comment: str = "") -> bool:
        """ILE refused: a reason is required; the usager is told of the recours."""
        from listes import emails

        motif = (motif or "").strip()
        if not motif:
            raise DomainError("Indiquez le motif du refus : il est notifié à l'usager.")

        def changes(d):
            d.decision = Decision.REFUSEE
            d.motif_refus = motif
            return ["decision", "motif_refus"]

        return self._transition(
            "refuser", by=by, comment=comment or motif, changes=changes, email=emails.decision
        )


def _new_nne() -> str:
    from procuration.models import Electeur

    for _ in range(50):
        nne = str(secrets.randbelow(9 * 10**8) + 10**8)  # 9 digits, no leading zero
        if not Electeur.objects.filter(nne=nne).exists():
            return nne
    raise IntegrityError("Impossible d'attribuer un NNE unique.")


def _listes(d: Teledossier):
    from listes import rules

    chosen = [name for name, on in ((rules.COMPLEMENTAIRE_MUNICIPALES, d.complementaire_municipales),
                                    (rules.COMPLEMENTAIRE_EUROPEENNES, d.complementaire_europeennes)) if on]
    return rules.ile_listes(d.nationalite, chosen)


def _registered_elector(d: Teledossier):
    """The elector already on a list with the usager's identité pivot (procuration.registry), locked,
    or None. Several candidates: nothing is guessed, the agent is asked to check the register."""
    from procuration.identity import Pivot
    from procuration.models import Electeur
    from procuration.registry import electeur_for_pivot

    found, why = electeur_for_pivot(Pivot.of_user(d.usager))
    if why == "homonymes":
        raise DomainError(
            "Plusieurs électeurs déjà inscrits ont exactement l'identité de l'usager : l'inscription ne peut pas "
            "être acceptée ici sans risque de doublon. Vérifiez le registre électoral (NNE) avant de décider."
        )
    if found is None:
        return None
    return Electeur.objects.select_for_update(of=("self",)).select_related("commune").get(pk=found.pk)


def _inscrire(d: Teledossier, *, by):
    from procuration.models import AuditLog, BureauDeVote, Electeur

    listes = _listes(d)
    adresse = f"{d.adresse}, {d.code_postal} {d.ville}"
    existing = _registered_elector(d)
    if existing is not None:
        old_commune = existing.commune
        fields = ["adresse", "liste", "nationalite", "complementaire_municipales", "complementaire_europeennes"]
        if existing.commune_id != d.commune_id:
            existing.commune_id = d.commune_id
            existing.bureau = BureauDeVote.objects.filter(commune_id=d.commune_id).order_by("numero").first()
            fields += ["commune", "bureau"]
        if d.nom_usage:
            existing.nom_usage = d.nom_usage
            fields.append("nom_usage")
        existing.adresse = adresse
        existing.liste, existing.nationalite = listes.liste, listes.nationalite
        existing.complementaire_municipales = listes.complementaire_municipales
        existing.complementaire_europeennes = listes.complementaire_europeennes
        existing.save(update_fields=fields)
        if old_commune.pk != d.commune_id:
            from procuration.registry import quitter_commune

            # The procurations given in the former commune end there (void, the mandant told).
            quitter_commune(existing, old_commune, by=by)
            # The radiation from the former commune, in the register's audit trail (append-only).
            AuditLog.record(
                by, "registre.radiation", existing, nne=existing.nne, commune=old_commune.code_insee,
                nouvelle_commune=d.commune.code_insee, motif="inscription dans une autre commune",
                teledossier=d.numero,
            )
        return existing
    bureau = BureauDeVote.objects.filter(commune_id=d.commune_id).order_by("numero").first()
    for _ in range(5):
        try:
            with transaction.atomic():
                return Electeur.objects.create(
                    nne=_new_nne(),
                    nom=d.nom.upper(),
                    nom_usage=d.nom_usage,
                    prenoms=d.prenoms,
                    sexe=d.sexe,
                    date_naissance=d.date_naissance,
                    lieu_naissance=d.lieu_naissance,
                    # The usager's identité pivot (FranceConnect), so that their login finds them.
                    code_lieu_naissance=d.usager.birthplace,
                    code_pays_naissance=d.usager.birthcountry,
                    commune_id=d.commune_id,
                    bureau=bureau,
                    liste=listes.liste,
                    nationalite=listes.nationalite,
                    complementaire_municipales=listes.complementaire_municipales,
                    complementaire_europeennes=listes.complementaire_europeennes,
                    adresse=adresse,
                )
        except IntegrityError:
            continue
    raise IntegrityError("Impossible d'attribuer un NNE unique.")


class TeledossierEvent(models.Model):
    """The transition log: from, to, who, when, and the comment sent to the usager."""

    teledossier = models.ForeignKey(Teledossier, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, blank=True)
    from_state = models.CharField(max_length=10, choices=Etat.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=Etat.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField("commentaire à l'usager", blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "événement de télédossier"

    def __str__(self):
        return f"{self.teledossier_id}: {self.from_state} → {self.to_state}"

    @property
    def is_pieces_purge(self) -> bool:
        return self.action == PIECES_PURGED


class Document(models.Model):
    """A document the mairie drops into the usager's espace (attestation…). Never modified."""

    class Kind(models.TextChoices):
        ATTESTATION = "attestation", "Attestation"
        ATTESTATION_RECENSEMENT = "attestation_rco", "Attestation de recensement"
        AUTRE = "autre", "Autre document"

    teledossier = models.ForeignKey(Teledossier, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField("nature", max_length=20, choices=Kind.choices, default=Kind.ATTESTATION)
    title = models.CharField("intitulé", max_length=200)
    file = models.FileField(upload_to=document_upload_to, storage=private_storage, max_length=200)
    size = models.PositiveIntegerField("taille (octets)")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "document de la mairie"

    def __str__(self):
        return self.title


class ListesCommuneConfig(models.Model):
    """Per-commune settings of the guichet: stamp and signature images for the attestations."""

    commune = models.OneToOneField("procuration.Commune", on_delete=models.CASCADE, related_name="listes_config")
    tampon = models.FileField("image du tampon", upload_to=image_upload_to, storage=private_storage, blank=True)
    signature = models.FileField("image de la signature", upload_to=image_upload_to, storage=private_storage, blank=True)
    signataire = models.CharField("nom du signataire", max_length=200, blank=True)
    qualite_signataire = models.CharField("qualité du signataire", max_length=200, blank=True, default="Le maire")

    class Meta:
        verbose_name = "configuration listes de la commune"

    def __str__(self):
        return f"Configuration listes — {self.commune}"
