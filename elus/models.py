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

    class Meta:
        verbose_name = "mandat d'élu municipal"
        verbose_name_plural = "mandats d'élus municipaux"

    def __str__(self):
        return f"{self.get_fonction_display()} — {self.user}"

    @property
    def commune(self):
        return self.user.commune

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
