"""The procuration dossier and its state machine.

The allowed moves are declared once in TRANSITIONS. Each move is a method of Procuration that
locks the row, re-checks, changes it, writes the transition log and schedules its e-mail in
the outbox, all in one transaction (see ../../docs/domain.md).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from procuration import chain, expiry
from procuration.exceptions import DomainError, TransitionError
from procuration.expiry import demande_expires_on
from procuration.fixed_select import CompiledOnce, insert
from procuration.models.audit import ChainedRow, purging
from procuration.models.territory import de
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
    ANNULEE = "annulee", "Annulée"


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
    # Void by law (AnnulationMotif): over the plafond when established (L.73), or the death or radiation
    # of the mandataire or of the mandant (an event of the register): what is pending or in force.
    "annuler": (frozenset({S.EN_ATTENTE, S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE}), S.ANNULEE),
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
    "annuler": "annuler",
}
# L.75: résilier what an authority has established takes effect only once the mandant's identity is
# checked (at the counter, or online with a certified France Identité login); online without that
# check it is only a request (demander_resiliation). A demande still « en attente » is withdrawn at once.
RESILIATION_NEEDS_IDENTITY = frozenset({S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE})


def locked_with() -> tuple[str, ...]:
    """Read with the locked row in every transition (Procuration._transition): what the checks read
    (procuration.checks.RELATED), and the commune of the e-mails and of the automatic validation; each
    was one more query (issue 16, docs/performance.md)."""
    from procuration.checks import RELATED

    return (*RELATED, "commune")
def _locked_read(model, *, pk):
    return model.objects.select_for_update(of=("self",)).select_related(*locked_with()).filter(pk=pk).order_by()


# The transitions' locked read (Procuration._transition): the ORM's statement for
# select_for_update(of=("self",)).select_related(*locked_with()).get(pk=…), compiled once per process
# (procuration/fixed_select.py CompiledOnce: its 7 joined tables cost ≈ 2 bare views to compile).
_LOCKED_READ = CompiledOnce(_locked_read, "pk")
# Statuses in which a procuration binds its mandant (no second one for the same dates).
ACTIVE_FOR_MANDANT = frozenset({S.EN_ATTENTE, S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE})
# Statuses in which a procuration counts towards the mandataire's plafond (L.73).
ACTIVE_FOR_PLAFOND = frozenset({S.VALIDEE_AUTORITE, S.VALIDEE_MAIRIE})
# Where a procuration an authority established (ACTIVE_FOR_PLAFOND) ends: the mandataire is told
# (notify_mandataire). Extend it with any new terminal status reachable from an established one.
ENDED_AFTER_ESTABLISHMENT = frozenset({S.RESILIEE, S.ECHUE, S.INVALIDEE_MAIRIE, S.ANNULEE})
# How long the mandataire still sees an ended procuration in their espace (mandant:confiees).
MANDATAIRE_SEES_ENDED_DAYS = 90
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


class AnnulationMotif(models.TextChoices):
    """Why a procuration is void by law (never a decision of the mairie)."""

    PLAFOND = "plafond", "Le mandataire détenait déjà le nombre maximal de procurations (article L.73 du code électoral)"
    DECES_MANDATAIRE = "deces_mandataire", "Décès du mandataire"
    RADIATION_MANDATAIRE = "radiation_mandataire", "Le mandataire a été radié des listes électorales ou privé de ses droits civiques"
    DECES_MANDANT = "deces_mandant", "Décès du mandant"
    RADIATION_MANDANT = "radiation_mandant", "Le mandant a été radié de la liste électorale de la commune"


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


class Verificateur(models.TextChoices):
    """Who checked the mandant's identity."""

    AUTORITE = "autorite", "Officier ou agent de police judiciaire habilité, au guichet"
    MAIRIE = "mairie", "Autorité nommée sur le formulaire papier, saisi par la mairie"
    FRANCE_IDENTITE = "france_identite", "France Identité (identité numérique certifiée)"


@dataclass(frozen=True)
class IdentiteVerifiee:
    """A verified identity: who checked it, with what, and where the procuration is thereby established
    (empty: as the procuration says)."""

    verificateur: str
    by: object = None  # the officer, or the agent who keyed the paper in; None for France Identité
    etablissement: str = ""
    piece_type: str = ""
    piece_numero_fin: str = ""
    autorite: str = ""  # paper keyed in at the mairie: the authority named on the form...
    date_etablissement: datetime.date | None = None  # ...and the date it signed

    @classmethod
    def france_identite(cls, electeur) -> "IdentiteVerifiee":
        """Online with France Identité: established in France, or abroad for an elector of a consular list."""
        from procuration.models.territory import Liste

        where = Etablissement.ETRANGER if electeur.liste == Liste.CONSULAIRE else Etablissement.FRANCE
        return cls(Verificateur.FRANCE_IDENTITE, etablissement=where)

    def raise_if_incomplete(self) -> None:
        if self.verificateur != Verificateur.FRANCE_IDENTITE and self.by is None:
            raise DomainError("La validation doit nommer l'officier ou l'agent qui l'a faite.")
        if self.verificateur == Verificateur.MAIRIE and not (self.autorite.strip() and self.date_etablissement):
            raise DomainError("Indiquez l'autorité qui a établi le formulaire et sa date.", field="autorite")

    def label(self) -> str:
        """autorite_label: the authority named to the mandant and on the registre."""
        if self.verificateur == Verificateur.FRANCE_IDENTITE:
            return "France Identité (identité numérique certifiée)"
        if self.verificateur == Verificateur.MAIRIE:
            return f"{self.autorite.strip()}, le {self.date_etablissement:%d/%m/%Y} (formulaire papier)"
        return self.by.officer_label

    def reason(self) -> str:
        if self.verificateur == Verificateur.FRANCE_IDENTITE:
            return "France Identité"
        if self.verificateur == Verificateur.MAIRIE:
            return f"Formulaire papier établi par {self.label()}, saisi par la mairie"
        return ""


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

    def confiees_a(self, electeur):
        """The mandataire's espace: the procurations where `electeur` is the mandataire, in force or
        ended after being established less than MANDATAIRE_SEES_ENDED_DAYS ago. None without an elector."""
        if electeur is None:
            return self.none()
        since = timezone.now() - datetime.timedelta(days=MANDATAIRE_SEES_ENDED_DAYS)
        return self.filter(mandataire=electeur).filter(
            models.Q(status__in=ACTIVE_FOR_PLAFOND)
            | models.Q(status__in=ENDED_AFTER_ESTABLISHMENT, autorite_at__isnull=False, ended_at__gte=since)
        )

    def statut_effectif_in(self, *statuses, today=None):
        """The rows whose effective status (Procuration.statut_effectif: a demande past its two months
        is expirée before the task records it) is one of `statuses` on `today` (None: today).
        procuration.expiry holds the rule."""
        return self.filter(expiry.effective_status_q(statuses, today))

    def counts_by_statut_effectif(self, *fields):
        """Rows {*fields, "statut": effective status, "n": count}, for the figures per status."""
        return self.values(*fields, statut=expiry.effective_status_expression()).annotate(n=models.Count("pk")).order_by()

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
    # Optional (given by the mandant): where the mandataire is told when it is established and when it ends.
    email_mandataire = models.EmailField("adresse électronique du mandataire", blank=True, default="", db_default="")

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
    annulation_motif = models.CharField("motif d'annulation", max_length=30, choices=AnnulationMotif.choices, blank=True,
                                        default="", db_default="")
    ended_at = models.DateTimeField("fin (résiliation, expiration, échéance)", null=True, blank=True)
    resiliation_demandee_at = models.DateTimeField(
        "résiliation demandée en ligne le (identité à vérifier)", null=True, blank=True
    )

    objects = ProcurationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The mairie's queue in its order (mairie.listing.queue_page): the page's rows walked in
            # index order, the id breaking ties (the demandes « en attente » have no autorite_at).
            models.Index(fields=["commune", "status", "autorite_at", "id"], name="proc_queue_order_idx"),
            models.Index(fields=["mandataire", "status"], name="proc_mandataire_idx"),
            models.Index(fields=["mandant", "status"], name="proc_mandant_idx"),
            models.Index(fields=["status", "submitted_at"], name="proc_status_submitted_idx"),
            # The dashboard's demandes « en attente » past their last day (procuration.counts).
            models.Index(fields=["commune", "status", "submitted_at"], name="proc_commune_submitted_idx"),
            # The mairie's search in the page's order (mairie.listing.search_page, a broad search).
            models.Index(fields=["commune", "created_at", "id"], name="proc_commune_created_idx"),
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

    def save(self, *args, **kwargs):
        """Also the mairie's search keys (procuration.search), in the same transaction: written with a
        new row, re-written when a full save or the fields saved may have changed whose names they are."""
        from procuration import search

        adding = self._state.adding
        update_fields = kwargs.get("update_fields")
        if not adding and update_fields is not None and not (
            {"mandant", "mandant_id", "mandataire", "mandataire_id", "commune", "commune_id"} & set(update_fields)
        ):
            return super().save(*args, **kwargs)  # a transition: the names are unchanged
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            (search.insert_keys if adding else search.write_keys)(self)

    # ------------------------------------------------------------------ helpers
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

    def expires_on(self) -> datetime.date | None:
        if self.submitted_at is None:
            return None
        return demande_expires_on(self.submitted_at)

    @property
    def statut_effectif(self) -> str:
        """The status wherever it matters (pages, counter, checks, API, transitions): a demande en attente
        past its last day is expirée at once, before tasks.expire_and_purge records it (procuration.expiry)."""
        return expiry.effective_status(self.status, self.submitted_at)

    @property
    def statut_effectif_label(self) -> str:
        return Status(self.statut_effectif).label

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
        check: Callable[["Procuration"], str | None] | None = None,
        email: Callable[["Procuration"], object] | None = None,
        notice: Callable[["Procuration"], bool] | None = None,
        savepoint: bool = True,
        inserted: bool = False,
    ) -> bool:
        """Lock, re-check, change, log, schedule the e-mail. Returns False if already done.
        notice, when given, says whether this move sends the mandataire notice (notify_mandataire).
        savepoint=False only for a caller whose own atomic block any error of this one leaves too
        (valider_autorite, deposer): the savepoint would be a round trip for nothing.

        The locked row comes with what the checks, the e-mails and the commune's automatic validation
        read (locked_with(): one joined statement instead of one query each, under the same lock: of=self).
        inserted=True (deposer only): this instance is a row inserted in the current transaction, with
        its related rows; no other transaction can see it before the commit, so it is its own locked
        read, and its dossier has no event yet (the first link; the unique (dossier, seq) index stays
        the arbiter). Refused outside a transaction."""
        sources, target = TRANSITIONS[name]
        if inserted and (self._state.adding or not connection.in_atomic_block):
            raise TransactionManagementError("inserted : la procuration doit être insérée dans cette transaction.")
        with transaction.atomic(savepoint=savepoint):
            locked = self if inserted else _LOCKED_READ.first(type(self), pk=self.pk)
            if locked is None:
                raise type(self).DoesNotExist("Procuration matching query does not exist.")
            if locked.status == target:
                self._copy_from(locked)
                return False
            # Judged on the effective status: a demande past its two months is expirée, recorded or not;
            # only `expirer` (which records it) moves it.
            current = locked.status if name == "expirer" else locked.statut_effectif
            if current not in sources:
                raise TransitionError(
                    f"Impossible {de(TRANSITION_VERBS[name])} une procuration dont le statut est "
                    f"« {Status(current).label} »."
                )
            if check is not None:
                # A check may return the reason to log, when it depends on the locked row.
                reason = check(locked) or reason
            from_status = locked.status
            fields = changes(locked) if changes else []
            locked.status = target
            locked.save(update_fields=["status", *fields])
            # The figures per commune, scrutin and status (procuration.counts), in this same transaction.
            from procuration import counts

            counts.moved(locked, from_status=from_status)
            ProcurationEvent.append(locked, from_status=from_status, to_status=target, actor=by, reason=reason,
                                    lock_held=True, first=inserted)
            # The communes' delta feed and webhooks (api/changes.py), in this same transaction.
            from api.changes import record

            record(locked, f"procuration.{name}")
            if email is not None:
                email(locked)
            if notice is None or notice(locked):
                notify_mandataire(locked, from_status=from_status)
        self._copy_from(locked)
        return True

    def _copy_from(self, other: "Procuration") -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(other, field.attname))
        # The related rows read under the lock (locked_with) replace any older copy.
        for relation in {name.split("__")[0] for name in locked_with()}:
            if relation in other._state.fields_cache:
                self._state.fields_cache[relation] = other._state.fields_cache[relation]

    # ---------------------------------------------------------------- transitions
    def soumettre(
        self, *, by=None, reason: str = "", notify: bool = True, etablissement: str = "", plafond: bool = True,
        _inserted: bool = False,
    ) -> bool:
        """Brouillon -> en attente: checks the demande and issues the 6-character reference.
        notify=False for a paper form keyed in by an authority: the mandant asked nothing online.
        etablissement (from etablir): where the identity check establishes it, before the period is checked.
        plafond=False (from etablir, a paper form an authority already signed): the plafond does not refuse
        it here; valider_autorite establishes it and, over the plafond, voids it (L.73).
        _inserted (deposer only): the row inserted in this transaction, its reference drawn with its INSERT
        (_transition's inserted; no savepoint: any error leaves deposer's block too)."""
        from procuration import checks, emails, validity

        def check(p):
            if etablissement:
                p.etablissement = etablissement
            # The dates of a scrutin procuration are those of the tours chosen, never typed.
            p.valid_from, p.valid_until = validity.periode_of(p)
            checks.raise_for_demande(p, plafond=plafond)

        def changes(p):
            p.submitted_at = timezone.now()
            if not p.reference:  # drawn with the row's INSERT by deposer: the unique index took it already
                p.reference = _assign_reference(p.pk)
            return ["submitted_at", "reference", "valid_from", "valid_until", "etablissement"]

        return self._transition(
            "soumettre", by=by, changes=changes, check=check, reason=reason,
            email=emails.reference_issued if notify else None, inserted=_inserted, savepoint=not _inserted,
        )

    def deposer(self, *, by, identite: "IdentiteVerifiee | None" = None, attempts: int = 20) -> "Procuration":
        """The mandant's demande filed online (this unsaved instance, with its related rows): inserted and
        submitted (soumettre) in one transaction, or, the identity verified online (France Identité),
        established (etablir). Raises DomainError, leaving nothing.

        The reference is drawn before the INSERT and written with it (a brouillon may carry one; none is
        ever committed: the same transaction submits it or rolls back): the unique index is the arbiter,
        and a collision, on the transaction's first statement, retries the whole transaction with a new
        draw. No savepoint, no UPDATE of its own, no locked re-read of the row just inserted, no read of
        its dossier's (empty) chain: 7 statements fewer than save() + soumettre() (issue 16,
        docs/performance.md « The récapitulatif's POST »)."""
        if not self._state.adding:
            raise TransitionError("Seule une nouvelle demande peut être déposée.")
        for _ in range(attempts):
            self.reference = generate_reference()
            inserting = True
            try:
                with transaction.atomic():
                    self.save(force_insert=True)
                    inserting = False
                    if identite is not None:
                        self.etablir(identite, by=by)
                    else:
                        self.soumettre(by=by, _inserted=True)
            except IntegrityError:
                self.pk, self._state.adding = None, True  # rolled back: nothing of this attempt stays
                if inserting and type(self).objects.filter(reference=self.reference).exists():
                    continue  # the reference was taken (committed meanwhile): draw another
                self.reference = None
                raise
            except BaseException:
                self.pk, self._state.adding, self.reference = None, True, None
                raise
            return self
        self.pk, self._state.adding, self.reference = None, True, None
        raise IntegrityError("Impossible d'attribuer une référence unique.")

    def valider_autorite(
        self, *, by=None, piece_type: str = "", piece_numero_fin: str = "", france_identite: bool = False,
        identite: "IdentiteVerifiee | None" = None,
    ) -> bool:
        """En attente -> validée par l'autorité: the mandant's identity was checked by an OPJ/APJ at the
        counter, by France Identité online, or (paper keyed in at the mairie) by the authority named
        on the form. Then, in the same transaction: if the mandataire already holds the maximum of
        procurations established before it (L.73, the earliest stand), it is void (annuler, motif plafond,
        the mandant e-mailed why); else the commune's automatic validation if it opted in. Returns True
        when the authority's act was recorded (void or not: read the status)."""
        from procuration import checks, emails, validity

        if identite is None:
            if france_identite:
                identite = IdentiteVerifiee(Verificateur.FRANCE_IDENTITE)
            else:
                identite = IdentiteVerifiee(Verificateur.AUTORITE, by=by, piece_type=piece_type,
                                            piece_numero_fin=piece_numero_fin)
        identite.raise_if_incomplete()
        over: list[str] = []  # the plafond message when what this act establishes is void (L.73)

        def check(p):
            # Where it is established is the fact of the authority that checked the identity, never the
            # mandant's answer: the durée allowed and the plafond follow it.
            where = identite.etablissement
            if not where and identite.verificateur == Verificateur.FRANCE_IDENTITE:
                where = IdentiteVerifiee.france_identite(p.mandant).etablissement
            elif not where and identite.verificateur == Verificateur.AUTORITE and identite.by is not None:
                where = Etablissement.ETRANGER if identite.by.unite_a_l_etranger else Etablissement.FRANCE
            if where:
                p.etablissement = where
            validity.raise_for_duree(p)
            # L.73: established over the plafond, it is void, not refused (counted under the mandataire's lock);
            # a doublon refuses.
            over.append(checks.raise_for_validation(p))

        def changes(p):
            p.autorite_by = identite.by
            p.autorite_at = timezone.now()
            p.autorite_label = identite.label()[:300]
            p.piece_type = identite.piece_type
            p.piece_numero_fin = identite.piece_numero_fin[-4:]
            fields = ["autorite_by", "autorite_at", "autorite_label", "piece_type", "piece_numero_fin", "etablissement"]
            if identite.verificateur == Verificateur.FRANCE_IDENTITE:
                p.origine = Origine.FRANCE_IDENTITE
                fields.append("origine")
            return fields

        def email(p):
            # Paper keyed in at the mairie: the mandant asked nothing online; the only e-mail is the decision.
            # Void at once (L.73): the one e-mail is the annulation's, which says why.
            if identite.verificateur != Verificateur.MAIRIE and not over[-1]:
                emails.validated_by_authority(p)

        with transaction.atomic():
            done = self._transition(
                "valider_autorite", by=identite.by, changes=changes, check=check, email=email,
                reason=identite.reason(), savepoint=False,  # an error leaves this block too: one rollback point
                # Void at once (L.73): never established for the mandataire, who holds the earlier ones.
                notice=lambda p: not over[-1],
            )
            if done and over[-1]:
                self.annuler(motif=AnnulationMotif.PLAFOND, detail=over[-1])
            elif done:
                self._valider_automatiquement()
        return done

    def _valider_automatiquement(self) -> bool:
        """The commune's opt-in automatic validation, a domain step right after the authority's:
        valider_mairie refuses unless every check passes; a refusal leaves the procuration waiting."""
        from procuration.models.territory import Commune

        # The commune as read under the procuration's lock, in this transaction (_transition, locked_with()).
        commune = self._state.fields_cache.get("commune")
        if commune is None or commune.pk != self.commune_id:
            commune = Commune.objects.only("auto_validation").get(pk=self.commune_id)
        if not commune.auto_validation:
            return False
        try:
            with transaction.atomic():  # a savepoint: a failed check undoes nothing of the authority's act
                return self.valider_mairie(automatique=True)
        except DomainError:
            return False

    def etablir(self, identite: "IdentiteVerifiee", *, by, reason: str = "") -> "Procuration":
        """A brouillon whose mandant's identity is already verified becomes an established procuration
        in one call: soumettre then valider_autorite (each logged like any transition), and the
        commune's automatic validation. Used by France Identité online and by the paper CERFA keyed in
        at the police or at the mairie. `by` keys it in (the mandant online, the officer, the agent).
        Raises DomainError and leaves nothing when a rule refuses."""
        with transaction.atomic():
            if self.status != Status.BROUILLON:
                raise TransitionError("Seule une demande en cours de saisie peut être établie.")
            # Where it is established follows who checked the identity. The plafond refuses while the
            # mandant can still choose another mandataire (France Identité, paper at the counter); a
            # paper form an authority signed elsewhere is established, then void if over it (L.73).
            if not self.soumettre(by=by, reason=reason, notify=self.origine != Origine.CERFA_PAPIER,
                                  etablissement=identite.etablissement,
                                  plafond=identite.verificateur != Verificateur.MAIRIE):
                raise TransitionError("Cette demande a déjà été soumise.")
            if not self.valider_autorite(identite=identite):
                raise DomainError("Cette procuration a déjà été validée.")
        return self

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

    def valider_mairie(self, *, by=None, forcer: bool = False, motif_forcage: str = "", automatique: bool = False) -> bool:
        """Validée par l'autorité -> validée par la mairie, only when every automatic check passes, or
        when an agent forces it with a reason (recorded in the event). The plafond of L.73 is checked
        again here, under the mandataire's lock, and can never be forced."""
        from procuration import checks, emails

        def check(p):
            failures = [r for r in checks.raise_for_mairie(p) if not r.ok]  # the plafond refuses first
            if automatique:
                if failures:
                    raise DomainError("Validation automatique impossible : un contrôle n'est pas conforme.",
                                      code="controles")
                return "Validation automatique (tous les contrôles satisfaits)"
            if not failures:
                return ""
            labels = ", ".join(r.label for r in failures)
            if not forcer:
                raise DomainError(
                    f"Un contrôle automatique n'est pas conforme ({labels}) : cochez la case pour valider quand même, "
                    "en indiquant pourquoi, ou invalidez.", code="controles", field="forcer",
                )
            if not motif_forcage.strip():
                raise DomainError("Indiquez pourquoi vous validez malgré les contrôles non conformes.",
                                  code="motif_forcage", field="motif_forcage")
            return f"Validation forcée malgré : {labels}. Motif : {motif_forcage.strip()}"

        def changes(p):
            p.mairie_by = by
            p.mairie_at = timezone.now()
            return ["mairie_by", "mairie_at"]

        return self._transition("valider_mairie", by=by, changes=changes, check=check, email=emails.mairie_decision)

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

    @property
    def resiliation_en_attente(self) -> bool:
        """The mandant asked online to revoke it; it stays in force until the identity is checked."""
        return self.resiliation_demandee_at is not None and self.status in RESILIATION_NEEDS_IDENTITY

    def demander_resiliation(self, *, by=None, reason: str = "Résiliation demandée en ligne par le mandant") -> bool:
        """L.75, online without a certified identity: only a request. The procuration stays in force (it
        still counts towards the plafond) until an officer checks the identity at the counter or the
        mandant logs in with France Identité (resilier with an identite). Logged with an unchanged status.
        Returns False if already requested."""
        with transaction.atomic():
            locked = type(self).objects.select_for_update(of=("self",)).get(pk=self.pk)
            if locked.status not in RESILIATION_NEEDS_IDENTITY:
                raise TransitionError(
                    f"Impossible de demander la résiliation d'une procuration dont le statut est "
                    f"« {Status(locked.status).label} »."
                )
            if locked.resiliation_demandee_at is not None:
                self._copy_from(locked)
                return False
            locked.resiliation_demandee_at = timezone.now()
            locked.save(update_fields=["resiliation_demandee_at"])
            ProcurationEvent.append(locked, from_status=locked.status, to_status=locked.status, actor=by, reason=reason,
                                    lock_held=True)
        self._copy_from(locked)
        return True

    def resilier(self, *, by=None, reason: str = "", identite: "IdentiteVerifiee | None" = None) -> bool:
        """L.75: the résiliation takes effect. A demande « en attente » is withdrawn at once; a procuration
        established by an authority only with the mandant's identity verified (identite: the officer at
        the counter, or France Identité), else DomainError: use demander_resiliation. Frees the
        mandataire's plafond; e-mails the mandant, the mairie and (notify_mandataire) the mandataire."""
        from procuration import emails

        if identite is not None:
            identite.raise_if_incomplete()

        established = []

        def check(p):
            established.append(p.status in RESILIATION_NEEDS_IDENTITY)
            if p.status in RESILIATION_NEEDS_IDENTITY and identite is None:
                raise DomainError(
                    "La résiliation d'une procuration établie ne prend effet qu'après vérification de l'identité "
                    "du mandant : au guichet d'un commissariat, d'une brigade ou d'un consulat, ou en ligne avec "
                    "France Identité.", code="identite",
                )
            if identite is not None:
                checked = f"Identité vérifiée : {identite.label()}"
                return f"{reason} — {checked}" if reason else checked
            return None

        def changes(p):
            p.ended_at = timezone.now()
            return ["ended_at"]

        def email(p):
            emails.resiliation(p)
            if established[-1]:  # it was established: the mairie strikes it from its registre
                emails.resiliation_mairie(p)

        return self._transition("resilier", by=by, changes=changes, check=check, email=email, reason=reason)

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

    def annuler(self, *, motif: str, detail: str = "", by=None) -> bool:
        """Void by law, never a decision: over the plafond when established (L.73, the earliest stand), or
        the death or radiation of the mandataire or of the mandant (procuration.registry.radier_electeur).
        Ends a demande pending or a procuration in force; e-mails the mandant why and what to do (not
        when the mandant died), and the mairie when it had recorded it (validée par la mairie)."""
        from procuration import emails

        if motif not in AnnulationMotif.values:
            raise DomainError("Motif d'annulation inconnu.")
        recorded = []

        def check(p):
            recorded.append(p.status == Status.VALIDEE_MAIRIE)

        def changes(p):
            p.annulation_motif = motif
            p.motif_detail = detail
            p.ended_at = timezone.now()
            return ["annulation_motif", "motif_detail", "ended_at"]

        def email(p):
            if motif != AnnulationMotif.DECES_MANDANT:
                emails.annulation(p)
            if recorded[-1]:  # the mairie strikes it from its registre
                emails.annulation_mairie(p)

        return self._transition(
            "annuler", by=by, changes=changes, check=check, email=email,
            reason=f"Nulle de plein droit : {AnnulationMotif(motif).label}{' — ' + detail if detail else ''}",
        )

    def echoir(self) -> bool:
        def changes(p):
            p.ended_at = timezone.now()
            return ["ended_at"]

        return self._transition("echoir", changes=changes, reason="Fin de validité")


def notify_mandataire(p: "Procuration", *, from_status: str) -> None:
    """The mandataire notice: when a procuration becomes established (it starts counting towards their
    plafond) and when an established one ends, the mandataire is e-mailed if the mandant gave their
    address; either way they see it in their espace (mandant:confiees). Called by _transition, in its
    transaction, for every move."""
    from procuration import emails

    if not p.email_mandataire:
        return
    if p.status == Status.ANNULEE and p.annulation_motif in (AnnulationMotif.PLAFOND, AnnulationMotif.DECES_MANDATAIRE):
        # Plafond: void by the very act that would have established it (nothing was announced);
        # the mandataire's death: nobody to tell.
        return
    if from_status not in ACTIVE_FOR_PLAFOND and p.status in ACTIVE_FOR_PLAFOND:
        emails.mandataire_established(p)
    elif from_status in ACTIVE_FOR_PLAFOND and p.status in ENDED_AFTER_ESTABLISHMENT:
        emails.mandataire_ended(p)


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


def _keep_events(collector, field, sub_objs, using):
    """Deleting a dossier keeps its events (the chain): only the retention purge may, and it
    pseudonymises them first (procuration/audit.py purge_dossiers); anything else is refused."""
    if purging():
        return models.SET_NULL(collector, field, sub_objs, using)
    raise models.ProtectedError(
        "Une procuration qui a un historique ne peut être supprimée que par la purge de conservation.", sub_objs
    )


class ProcurationEvent(ChainedRow):
    """The transition log: from, to, who, when, why. One hash chain per dossier (`dossier`, which
    outlives the procuration row); appending locks the procuration row, the chain's head."""

    procuration = models.ForeignKey(Procuration, null=True, blank=True, on_delete=_keep_events, related_name="events")
    dossier = models.BigIntegerField("dossier (procuration)")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "événement de procuration"
        constraints = [models.UniqueConstraint(fields=["dossier", "seq"], name="procurationevent_chain_seq_unique")]

    def __str__(self):
        return f"{self.dossier}: {self.from_status} → {self.to_status}"

    def personal(self) -> dict:
        return chain.event_personal(self.reason)

    def payload(self) -> dict:
        return chain.event_payload(
            dossier=self.dossier, seq=self.seq, from_status=self.from_status, to_status=self.to_status,
            actor_id=self.actor_id, at=self.at, pii=self.pii_digest,
        )

    @classmethod
    def append(cls, procuration, *, from_status: str, to_status: str, actor=None, reason: str = "",
               lock_held: bool = False, first: bool = False) -> "ProcurationEvent":
        """Add the next link of this dossier's chain, the procuration row locked. lock_held=True: the
        caller holds that lock in its transaction (the transitions: Procuration._transition,
        demander_resiliation), so neither a savepoint nor a re-lock (three round trips) is needed.
        first=True (with lock_held): the procuration row was inserted in this transaction (a new
        dossier: its chain is empty), so its head is not read; were a link there, the unique index
        on (dossier, seq) would refuse this one."""
        if lock_held and not connection.in_atomic_block:
            raise TransactionManagementError("lock_held : la procuration doit être verrouillée dans une transaction.")
        if first and not lock_held:
            raise TransactionManagementError("first : seulement pour une procuration insérée dans cette transaction.")
        with transaction.atomic(savepoint=not lock_held):
            if not lock_held:
                list(Procuration.objects.select_for_update(of=("self",)).filter(pk=procuration.pk).values_list("pk"))
            last = None if first else next(iter(_EVENT_HEAD.tuples(dossier=procuration.pk)), None)
            seq, prev_hash = (last[0] + 1, last[1]) if last else (1, chain.GENESIS)
            event = cls(
                procuration=procuration, dossier=procuration.pk, from_status=from_status, to_status=to_status,
                actor=actor, reason=reason, at=timezone.now(),
            )
            event.seal(seq, prev_hash)
            insert(event)  # the row ChainedRow.save would insert, by a statement written once per process
        return event


# The dossier's last link (ProcurationEvent.append), compiled once per process: the statement of
# ProcurationEvent.objects.filter(dossier=…).order_by("-seq").values_list("seq", "hash").first().
_EVENT_HEAD = CompiledOnce(
    lambda key, dossier: ProcurationEvent.objects.filter(dossier=dossier).order_by("-seq").values_list("seq", "hash")[:1],
    "dossier",
)
