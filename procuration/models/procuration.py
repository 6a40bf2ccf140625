"""The procuration dossier and its state machine.

The allowed moves are declared once in TRANSITIONS. Each move is a method of Procuration that
locks the row, re-checks, changes it, writes the transition log and schedules its e-mail in
the outbox, all in one transaction (see ../../docs/domain.md).
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from procuration.exceptions import DomainError, TransitionError
from procuration.reference import generate_reference, normalize_reference


class Status(models.TextChoices):
    BROUILLON = "brouillon", "Brouillon"
    EN_ATTENTE = "en_attente", "En attente de validation"
    VALIDEE_AUTORITE = "validee_autorite", "Validée par l'autorité"
    REFUSEE_AUTORITE = "refusee_autorite", "Refusée par l'autorité"
    VALIDEE_MAIRIE = "validee_mairie", "Validée par la mairie"
    INVALIDEE_MAIRIE = "invalidee_mairie", "Invalidée par la mairie"
    RESILIEE = "resiliee", "Résiliée"
    EXPIREE = "expiree", "Expirée"
    ECHUE = "echue", "Échue"


S = Status
# name -> (allowed sources, target). The one place the state machine is declared.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "soumettre": (frozenset({S.BROUILLON}), S.EN_ATTENTE),
    "valider_autorite": (frozenset({S.EN_ATTENTE}), S.VALIDEE_AUTORITE),
    "refuser_autorite": (frozenset({S.EN_ATTENTE}), S.REFUSEE_AUTORITE),
    "valider_mairie": (frozenset({S.VALIDEE_AUTORITE}), S.VALIDEE_MAIRIE),
    "invalider_mairie": (frozenset({S.VALIDEE_AUTORITE}), S.INVALIDEE_MAIRIE),
    "resilier": (frozenset({S.EN_ATTENTE, S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE}), S.RESILIEE),
    # A brouillon has no reference and cannot be "expirée" (reference_once_submitted); old
    # brouillons are deleted by tasks.expire_and_purge instead.
    "expirer": (frozenset({S.EN_ATTENTE}), S.EXPIREE),
    "echoir": (frozenset({S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE}), S.ECHUE),
}
TRANSITION_VERBS = {
    "soumettre": "soumettre",
    "valider_autorite": "valider (autorité)",
    "refuser_autorite": "refuser (autorité)",
    "valider_mairie": "valider (mairie)",
    "invalider_mairie": "invalider (mairie)",
    "resilier": "résilier",
    "expirer": "faire expirer",
    "echoir": "clore (fin de validité)",
}
# Statuses in which a procuration binds its mandant (no second one for the same dates).
ACTIVE_FOR_MANDANT = frozenset({S.EN_ATTENTE, S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE})
# Statuses in which a procuration counts towards the mandataire's plafond (L.73).
ACTIVE_FOR_PLAFOND = frozenset({S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE})
WAITING_FOR_MAIRIE = frozenset({S.VALIDEE_AUTORITE})


class Portee(models.TextChoices):
    SCRUTIN = "scrutin", "Pour un scrutin"
    DUREE = "duree", "Pour une durée limitée"


class Origine(models.TextChoices):
    EN_LIGNE = "en_ligne", "Demande en ligne"
    FRANCE_IDENTITE = "france_identite", "Demande en ligne validée avec France Identité"
    CERFA_PAPIER = "cerfa_papier", "Formulaire CERFA papier"


class Etablissement(models.TextChoices):
    FRANCE = "france", "En France"
    ETRANGER = "etranger", "À l'étranger"


class InvalidationMotif(models.TextChoices):
    MANDANT_NON_INSCRIT = "mandant_non_inscrit", "Le mandant n'est pas inscrit sur la liste électorale de la commune"
    MANDATAIRE_NON_INSCRIT = "mandataire_non_inscrit", "Le mandataire n'est inscrit sur aucune liste électorale"
    PLAFOND_ATTEINT = "plafond_atteint", "Le mandataire détient déjà le nombre maximal de procurations"
    AUTRE = "autre", "Autre motif"


class RefusMotif(models.TextChoices):
    IDENTITE_NON_CONFORME = "identite_non_conforme", "L'identité ne correspond pas à la pièce présentée"
    PERSONNE_ABSENTE = "personne_absente", "Le mandant ne s'est pas présenté en personne"
    PIECE_INVALIDE = "piece_invalide", "La pièce d'identité présentée n'est pas valable"
    AUTRE = "autre", "Autre motif"


class PieceType(models.TextChoices):
    CNI = "cni", "Carte nationale d'identité"
    PASSEPORT = "passeport", "Passeport"
    PERMIS = "permis", "Permis de conduire"
    CARTE_VITALE = "carte_vitale", "Carte Vitale avec photographie"
    AUTRE = "autre", "Autre pièce admise"


class ProcurationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The procurations a user may see; everything else answers 404."""
        from procuration.models.accounts import Role

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.role == Role.MANDANT:
            return self.filter(mandant_user=user)
        if user.role == Role.AGENT_MAIRIE and user.commune_id:
            return self.filter(commune_id=user.commune_id).exclude(status=Status.BROUILLON)
        if user.role == Role.ADMIN_NATIONAL:
            return self
        return self.none()

    def overlapping(self, start: datetime.date, end: datetime.date):
        """Closed intervals [valid_from, valid_until] that share at least one day with [start, end]."""
        return self.filter(valid_from__lte=end, valid_until__gte=start)

    def by_reference(self, raw: str) -> "Procuration | None":
        """The procuration whose reference a person typed (normalised first), or None.

        Raises procuration.reference.InvalidReference (a DomainError, French message) when the
        input cannot be a reference at all. Chain after visible_to() to keep the scope."""
        return self.filter(reference=normalize_reference(raw)).first()


class Procuration(models.Model):
    Status = Status
    Portee = Portee
    Origine = Origine
    Etablissement = Etablissement

    reference = models.CharField("référence d'enregistrement", max_length=6, unique=True, null=True, blank=True)
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.BROUILLON, db_index=True)
    origine = models.CharField("origine", max_length=20, choices=Origine.choices, default=Origine.EN_LIGNE)

    mandant = models.ForeignKey("procuration.Electeur", on_delete=models.PROTECT, related_name="procurations_donnees")
    mandant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="procurations"
    )
    email_contact = models.EmailField("adresse électronique du mandant", blank=True)
    commune = models.ForeignKey("procuration.Commune", on_delete=models.PROTECT, related_name="procurations")
    mandataire = models.ForeignKey("procuration.Electeur", on_delete=models.PROTECT, related_name="procurations_recues")

    portee = models.CharField("portée", max_length=10, choices=Portee.choices, default=Portee.SCRUTIN)
    scrutin = models.ForeignKey("procuration.Scrutin", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tour1 = models.BooleanField("1er tour", default=False)
    tour2 = models.BooleanField("2nd tour", default=False)
    valid_from = models.DateField("valable du")
    valid_until = models.DateField("valable jusqu'au")
    etablissement = models.CharField("établie", max_length=10, choices=Etablissement.choices, default=Etablissement.FRANCE)

    created_at = models.DateTimeField("créée le", default=timezone.now)
    submitted_at = models.DateTimeField("soumise le", null=True, blank=True)

    autorite_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="validée ou refusée par",
    )
    autorite_at = models.DateTimeField("date de l'acte de l'autorité", null=True, blank=True)
    autorite_label = models.CharField("autorité (nom, prénom, qualité)", max_length=300, blank=True)
    piece_type = models.CharField("pièce d'identité vue", max_length=20, choices=PieceType.choices, blank=True)
    piece_numero_fin = models.CharField("fin du numéro de la pièce", max_length=4, blank=True)
    refus_motif = models.CharField("motif de refus", max_length=30, choices=RefusMotif.choices, blank=True)

    mairie_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name="décision de la mairie par",
    )
    mairie_at = models.DateTimeField("date de la décision de la mairie", null=True, blank=True)
    invalidation_motif = models.CharField("motif d'invalidation", max_length=30, choices=InvalidationMotif.choices, blank=True)
    motif_detail = models.TextField("précision du motif", blank=True)
    ended_at = models.DateTimeField("fin (résiliation, expiration, échéance)", null=True, blank=True)

    objects = ProcurationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["commune", "status", "autorite_at"], name="proc_queue_idx"),
            models.Index(fields=["mandataire", "status"], name="proc_mandataire_idx"),
            models.Index(fields=["mandant", "status"], name="proc_mandant_idx"),
            models.Index(fields=["status", "submitted_at"], name="proc_status_submitted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(mandant=models.F("mandataire")), name="mandant_not_mandataire"),
            models.CheckConstraint(condition=models.Q(valid_from__lte=models.F("valid_until")), name="valid_interval"),
            models.CheckConstraint(
                condition=models.Q(status="brouillon") | models.Q(reference__isnull=False), name="reference_once_submitted"
            ),
        ]

    def __str__(self):
        return f"Procuration {self.reference or '(brouillon)'}"

    # ------------------------------------------------------------------ helpers
    @property
    def est_en_france(self) -> bool:
        return self.etablissement == Etablissement.FRANCE

    @property
    def portee_label(self) -> str:
        if self.portee == Portee.SCRUTIN and self.scrutin_id:
            tours = []
            if self.tour1:
                tours.append(f"1er tour ({self.scrutin.date_tour1:%d/%m/%Y})")
            if self.tour2 and self.scrutin.date_tour2:
                tours.append(f"2nd tour ({self.scrutin.date_tour2:%d/%m/%Y})")
            return f"{self.scrutin.libelle} — {' et '.join(tours)}"
        return f"Du {self.valid_from:%d/%m/%Y} au {self.valid_until:%d/%m/%Y}"

    def dates_from_scrutin(self) -> tuple[datetime.date, datetime.date]:
        """(valid_from, valid_until) implied by the scrutin and the tours chosen."""
        if self.scrutin is None:
            raise DomainError("Choisissez le scrutin.", code="scrutin", field="scrutin")
        if not (self.tour1 or self.tour2):
            raise DomainError("Choisissez au moins un tour.", code="tour", field="tour1")
        if self.tour2 and not self.scrutin.date_tour2:
            raise DomainError("Ce scrutin n'a qu'un tour.", code="tour", field="tour2")
        start = self.scrutin.date_tour1 if self.tour1 else self.scrutin.date_tour2
        end = self.scrutin.date_tour2 if self.tour2 else self.scrutin.date_tour1
        return start, end

    def expires_on(self) -> datetime.date | None:
        if self.submitted_at is None:
            return None
        return (self.submitted_at + datetime.timedelta(days=settings.PROCURATION_DEMANDE_LIFETIME_DAYS)).date()

    @classmethod
    def allowed(cls, name: str, status: str) -> bool:
        return status in TRANSITIONS[name][0]

    # ---------------------------------------------------------------- machinery
    def _transition(
        self,
        name: str,
        *,
        by=None,
        reason: str = "",
        changes: Callable[["Procuration"], list[str]] | None = None,
        check: Callable[["Procuration"], None] | None = None,
        email: Callable[["Procuration"], object] | None = None,
    ) -> bool:
        """Lock, re-check, change, log, schedule the e-mail. Returns False if already done."""
        sources, target = TRANSITIONS[name]
        with transaction.atomic():
            locked = type(self).objects.select_for_update(of=("self",)).get(pk=self.pk)
            if locked.status == target:
                self._copy_from(locked)
                return False
            if locked.status not in sources:
                raise TransitionError(
                    f"Impossible de {TRANSITION_VERBS[name]} une procuration dont le statut est "
                    f"« {Status(locked.status).label} »."
                )
            if check is not None:
                check(locked)
            from_status = locked.status
            fields = changes(locked) if changes else []
            locked.status = target
            locked.save(update_fields=["status", *fields])
            ProcurationEvent.objects.create(
                procuration=locked, from_status=from_status, to_status=target, actor=by, reason=reason
            )
            if email is not None:
                email(locked)
        self._copy_from(locked)
        return True

    def _copy_from(self, other: "Procuration") -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(other, field.attname))

    # ---------------------------------------------------------------- transitions
    def soumettre(self, *, by=None, reason: str = "", notify: bool = True) -> bool:
        """Brouillon -> en attente: checks the demande and issues the 6-character reference.
        notify=False for a paper form keyed in by an authority: the mandant asked nothing online."""
        from procuration import checks, emails

        def check(p):
            if p.portee == Portee.SCRUTIN:
                # The dates of a scrutin procuration are those of the tours chosen, never typed.
                p.valid_from, p.valid_until = p.dates_from_scrutin()
            checks.raise_for_demande(p)

        def changes(p):
            p.submitted_at = timezone.now()
            p.reference = _assign_reference(p.pk)
            return ["submitted_at", "reference", "valid_from", "valid_until"]

        return self._transition(
            "soumettre", by=by, changes=changes, check=check, reason=reason,
            email=emails.reference_issued if notify else None,
        )

    def valider_autorite(self, *, by, piece_type: str = "", piece_numero_fin: str = "", france_identite: bool = False) -> bool:
        """En attente -> validée par l'autorité (an OPJ/APJ at the counter, or France Identité online)."""
        from procuration import checks, emails

        if not france_identite and by is None:
            raise DomainError("La validation doit nommer l'officier ou l'agent qui l'a faite.")

        def check(p):
            checks.raise_for_validation(p)

        def changes(p):
            p.autorite_by = None if france_identite else by
            p.autorite_at = timezone.now()
            p.autorite_label = "France Identité (identité numérique certifiée)" if france_identite else by.officer_label
            p.piece_type = piece_type
            p.piece_numero_fin = piece_numero_fin[-4:]
            fields = ["autorite_by", "autorite_at", "autorite_label", "piece_type", "piece_numero_fin"]
            if france_identite:
                p.origine = Origine.FRANCE_IDENTITE
                fields.append("origine")
            return fields

        def email(p):
            emails.validated_by_authority(p)
            if p.commune.auto_validation and checks.all_pass(p):
                transaction.on_commit(lambda: _auto_validate(p.pk))

        return self._transition(
            "valider_autorite", by=by, changes=changes, check=check, email=email,
            reason="France Identité" if france_identite else "",
        )

    def refuser_autorite(self, *, by, motif: str, detail: str = "") -> bool:
        from procuration import emails

        if motif not in RefusMotif.values:
            raise DomainError("Motif de refus inconnu.")
        if motif == RefusMotif.AUTRE and not detail.strip():
            raise DomainError("Précisez le motif du refus.")

        def changes(p):
            p.autorite_by = by
            p.autorite_at = timezone.now()
            p.autorite_label = by.officer_label
            p.refus_motif = motif
            p.motif_detail = detail
            p.ended_at = timezone.now()
            return ["autorite_by", "autorite_at", "autorite_label", "refus_motif", "motif_detail", "ended_at"]

        return self._transition(
            "refuser_autorite", by=by, changes=changes, email=emails.refused_by_authority,
            reason=f"{RefusMotif(motif).label}{' : ' + detail if detail else ''}",
        )

    def valider_mairie(self, *, by=None, automatique: bool = False) -> bool:
        from procuration import emails

        def changes(p):
            p.mairie_by = by
            p.mairie_at = timezone.now()
            return ["mairie_by", "mairie_at"]

        return self._transition(
            "valider_mairie", by=by, changes=changes, email=emails.mairie_decision,
            reason="Validation automatique (tous les contrôles satisfaits)" if automatique else "",
        )

    def invalider_mairie(self, *, by, motif: str, detail: str = "") -> bool:
        from procuration import emails

        if motif not in InvalidationMotif.values:
            raise DomainError("Motif d'invalidation inconnu.")
        if motif == InvalidationMotif.AUTRE and not detail.strip():
            raise DomainError("Précisez le motif de l'invalidation.")

        def changes(p):
            p.mairie_by = by
            p.mairie_at = timezone.now()
            p.invalidation_motif = motif
            p.motif_detail = detail
            p.ended_at = timezone.now()  # a terminal state, like refus, résiliation and expiration
            return ["mairie_by", "mairie_at", "invalidation_motif", "motif_detail", "ended_at"]

        return self._transition(
            "invalider_mairie", by=by, changes=changes, email=emails.mairie_decision,
            reason=f"{InvalidationMotif(motif).label}{' : ' + detail if detail else ''}",
        )

    def resilier(self, *, by=None, reason: str = "") -> bool:
        from procuration import emails

        def changes(p):
            p.ended_at = timezone.now()
            return ["ended_at"]

        return self._transition("resilier", by=by, changes=changes, email=emails.resiliation, reason=reason)

    def expirer(self) -> bool:
        from procuration import emails

        def email(p):
            if p.reference:
                emails.expired(p)

        def changes(p):
            p.ended_at = timezone.now()
            return ["ended_at"]

        return self._transition(
            "expirer", changes=changes, email=email, reason="Non validée dans le délai de deux mois"
        )

    def echoir(self) -> bool:
        def changes(p):
            p.ended_at = timezone.now()
            return ["ended_at"]

        return self._transition("echoir", changes=changes, reason="Fin de validité")


def _auto_validate(pk: int) -> None:
    from procuration import checks

    p = Procuration.objects.filter(pk=pk, status=Status.VALIDEE_AUTORITE).select_related("commune").first()
    if p is not None and p.commune.auto_validation and checks.all_pass(p):
        try:
            p.valider_mairie(automatique=True)
        except DomainError:
            pass


def _assign_reference(pk: int, attempts: int = 20) -> str:
    """Write a fresh reference on row pk, retried on collision: the unique index is the arbiter."""
    for _ in range(attempts):
        ref = generate_reference()
        try:
            with transaction.atomic():  # a savepoint: a collision rolls back this write only
                Procuration.objects.filter(pk=pk).update(reference=ref)
        except IntegrityError:
            continue
        return ref
    raise IntegrityError("Impossible d'attribuer une référence unique.")


class ProcurationEvent(models.Model):
    """The transition log: from, to, who, when, why."""

    procuration = models.ForeignKey(Procuration, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "événement de procuration"

    def __str__(self):
        return f"{self.procuration_id}: {self.from_status} → {self.to_status}"
