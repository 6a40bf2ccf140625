"""The élus of a commune (users of the mairie portal) and their absences.

The rule (how many hours, what may be taken) lives in procuration/credit_heures.py; these models
keep the facts and lock, re-check and write (house style items 2 and 11)."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone

from procuration import credit_heures
from procuration.credit_heures import Assemblee, Fonction, Nature
from procuration.exceptions import DomainError
from procuration.models import Role, User
from procuration.models.territory import de

NOT_ELIGIBLE = (
    "Choisissez un compte actif de l'espace mairie de la commune qui n'a pas encore de mandat."
)


def eligible_accounts(commune):
    """The accounts that may be declared élus of `commune`: the active mairie-portal accounts of that
    commune that hold no mandate yet. The one home of this rule: the national back office and the
    commune's administrator declare through it (elus.forms.MandatForm, Mandat.declarer)."""
    if commune is None:
        return User.objects.none()
    return User.objects.filter(commune=commune, role=Role.AGENT_MAIRIE, is_active=True, mandat__isnull=True)


class MandatQuerySet(models.QuerySet):
    def of_commune(self, commune_id):
        """The mandates of a commune's élus (the élu's account belongs to the commune)."""
        return self.filter(user__commune_id=commune_id)


class Mandat(models.Model):
    """The municipal mandate of a mairie-portal user: maire, adjoint or conseiller municipal."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mandat")
    fonction = models.CharField(
        "fonction", max_length=20, choices=[c for c in Fonction.CHOICES if c[0] in Fonction.BY_ASSEMBLEE["commune"]]
    )
    temps_travail = models.PositiveSmallIntegerField(
        "temps de travail (% du temps plein)", default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    employeur = models.CharField("employeur", max_length=200, blank=True)

    objects = MandatQuerySet.as_manager()

    class Meta:
        verbose_name = "mandat d'élu municipal"
        verbose_name_plural = "mandats d'élus municipaux"

    def __str__(self):
        return f"{self.get_fonction_display()} — {self.user}"

    @property
    def commune(self):
        return self.user.commune

    @classmethod
    def declarer(cls, *, commune, user, fonction: str, temps_travail: int, employeur: str = "") -> "Mandat":
        """Lock the account, re-check that it may be declared (eligible_accounts), record the mandate.
        Raises DomainError (field user) when it may not: another declaration may have come first."""
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user.pk).first()
            if not eligible_accounts(commune).filter(pk=user.pk).exists():
                raise DomainError(NOT_ELIGIBLE, code="not_eligible", field="user")
            return cls.objects.create(user=user, fonction=fonction, temps_travail=temps_travail, employeur=employeur)

    def modifier(self, *, temps_travail: int, employeur: str) -> list[str]:
        """Lock, re-read, change the working time and the employer; returns the changed field names."""
        with transaction.atomic():
            current = Mandat.objects.select_for_update(of=("self",)).get(pk=self.pk)
            changed = []
            for name, value in (("temps_travail", temps_travail), ("employeur", employeur)):
                if getattr(current, name) != value:
                    setattr(current, name, value)
                    changed.append(name)
            if changed:
                current.save(update_fields=changed)
        self.temps_travail, self.employeur = current.temps_travail, current.employeur
        return changed

    def terminer(self) -> None:
        """End the mandate by deleting it, only while no absence was declared under it: the absences
        (crédit d'heures, réunions) are the élu's history and the mandate's deletion would take them
        with it (Absence.mandat is CASCADE). Locked like enregistrer_absence, so no absence slips in
        between the count and the deletion. Raises DomainError otherwise."""
        with transaction.atomic():
            Mandat.objects.select_for_update(of=("self",)).get(pk=self.pk)
            n = self.absences.count()
            if n:
                declared = "1 absence y est déclarée" if n == 1 else f"{n} absences y sont déclarées"
                raise DomainError(
                    f"Le mandat {de(str(self.user))} n'est pas supprimé : {declared}, qui doivent rester dans "
                    "l'historique de l'élu. Si l'élu ne doit plus accéder à l'espace mairie, désactivez son compte "
                    "dans la page « Agents ».",
                    code="has_absences",
                )
            self.delete()

    def credit(self) -> int:
        """The crédit d'heures of a quarter, in minutes, from the commune's population and majoration."""
        commune = self.user.commune
        return credit_heures.credit_trimestriel(
            assemblee=Assemblee.COMMUNE, fonction=self.fonction, population=commune.population,
            majoration=commune.majoration_credit_heures, temps_travail=self.temps_travail,
        )

    def used(self, day: datetime.date) -> tuple[int, int]:
        """(crédit d'heures taken in the quarter of `day`, all absences in its calendar year), in minutes."""
        start, end = credit_heures.quarter_bounds(day)
        quarter = self.absences.filter(nature=Nature.CREDIT, date__range=(start, end)).aggregate(
            n=Sum("duree"))["n"] or 0
        year = self.absences.filter(date__year=day.year).aggregate(n=Sum("duree"))["n"] or 0
        return quarter, year

    def summary(self, day: datetime.date) -> dict:
        credit = self.credit()
        quarter, year = self.used(day)
        start, end = credit_heures.quarter_bounds(day)
        return {
            "credit": credit, "used_quarter": quarter, "left_quarter": max(credit - quarter, 0),
            "used_year": year, "left_year": max(credit_heures.ANNUAL_CAP_MINUTES - year, 0),
            "cap": credit_heures.ANNUAL_CAP_MINUTES, "quarter_start": start, "quarter_end": end,
        }

    def enregistrer_absence(self, *, date: datetime.date, duree: int, nature: str, objet: str = "") -> "Absence":
        """Lock the mandate, re-count, check the rule, record. Raises DomainError (field duree/nature)."""
        with transaction.atomic():
            Mandat.objects.select_for_update(of=("self",)).get(pk=self.pk)
            quarter, year = self.used(date)
            credit_heures.check_absence(nature=nature, duree=duree, credit=self.credit(), used_quarter=quarter,
                                        used_year=year)
            return Absence.objects.create(mandat=self, date=date, duree=duree, nature=nature, objet=objet)


class Absence(models.Model):
    mandat = models.ForeignKey(Mandat, on_delete=models.CASCADE, related_name="absences")
    date = models.DateField("date de l'absence")
    duree = models.PositiveIntegerField("durée (minutes)")
    nature = models.CharField("type d'absence", max_length=10, choices=Nature.CHOICES)
    objet = models.CharField("objet (réunion)", max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "absence d'élu"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["mandat", "date"], name="elus_absence_mandat_date")]

    def __str__(self):
        return f"{self.get_nature_display()} le {self.date:%d/%m/%Y} ({credit_heures.format_minutes(self.duree)})"

    @property
    def duree_display(self) -> str:
        return credit_heures.format_minutes(self.duree)

    @property
    def late_notice(self) -> bool:
        """Recorded fewer than 3 days before the absence: the employer was not told in time."""
        return (self.date - self.created_at.date()).days < credit_heures.NOTICE_DAYS
