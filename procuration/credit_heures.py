"""Crédit d'heures des élus salariés: the one home of the rule (CGCT L.2123-2 to L.2123-4,
R.2123-5 to R.2123-8; L.3123-2, L.4135-2 for départements and régions; /work/shared/domain.md).

Durations are whole minutes (integers), never floats: 122 h 30 is 7350.

- The crédit per quarter depends on the mandate (commune, département, région), the function,
  and for communes on the population.
- The conseil municipal may raise it by up to 30 % (the commune's ``majoration_credit_heures``).
- For part-time work it is reduced in proportion (``temps_travail``, a percentage of full time).
  The result is rounded down to the minute (never more than the law's figure).
- Unused hours are lost at the end of the quarter (no carry-over).
- Absences of all kinds (crédit d'heures and autorisations d'absence for meetings) may not
  exceed 803 h 30 in a calendar year.
- A commune may compensate an élu without indemnités for lost earnings: 72 h a year at most,
  at 16,91 € an hour at most (CGCT L.2123-3, R.2123-11).
"""

import datetime
from decimal import Decimal

from procuration.exceptions import DomainError

MINUTES = 60
ANNUAL_CAP_MINUTES = 803 * MINUTES + 30  # 803 h 30 a year, all absences together
MAJORATION_MAX = 30  # percent
COMPENSATION_HOURS_MAX = 72  # a year, for an élu without indemnités
COMPENSATION_RATE_MAX = Decimal("16.91")  # euros an hour (1,5 × SMIC horaire)
NOTICE_DAYS = 3  # the employer is told in writing at least 3 days before


class Assemblee:
    COMMUNE = "commune"
    DEPARTEMENT = "departement"
    REGION = "region"
    CHOICES = [(COMMUNE, "Conseil municipal"), (DEPARTEMENT, "Conseil départemental"), (REGION, "Conseil régional")]


class Fonction:
    MAIRE = "maire"
    ADJOINT = "adjoint"
    CONSEILLER = "conseiller"
    PRESIDENT = "president"
    VICE_PRESIDENT = "vice_president"
    CHOICES = [
        (MAIRE, "Maire"),
        (ADJOINT, "Adjoint au maire"),
        (CONSEILLER, "Conseiller"),
        (PRESIDENT, "Président"),
        (VICE_PRESIDENT, "Vice-président"),
    ]
    BY_ASSEMBLEE = {
        Assemblee.COMMUNE: (MAIRE, ADJOINT, CONSEILLER),
        Assemblee.DEPARTEMENT: (PRESIDENT, VICE_PRESIDENT, CONSEILLER),
        Assemblee.REGION: (PRESIDENT, VICE_PRESIDENT, CONSEILLER),
    }


def _h(hours: int, minutes: int = 0) -> int:
    return hours * MINUTES + minutes


# (lowest population, minutes per quarter), highest threshold first (CGCT R.2123-5).
MUNICIPAL_TABLE = {
    Fonction.MAIRE: [(10_000, _h(140)), (0, _h(122, 30))],
    Fonction.ADJOINT: [(30_000, _h(140)), (10_000, _h(122, 30)), (0, _h(70))],
    Fonction.CONSEILLER: [(100_000, _h(70)), (30_000, _h(35)), (10_000, _h(21)), (0, _h(10, 30))],
}
# Départements and régions: by function only (R.3123-5, R.4135-5).
DEPARTEMENT_REGION_TABLE = {
    Fonction.PRESIDENT: _h(140),
    Fonction.VICE_PRESIDENT: _h(140),
    Fonction.CONSEILLER: _h(105),
}


def credit_trimestriel(
    *, assemblee: str, fonction: str, population: int | None = None, majoration: int = 0, temps_travail: int = 100
) -> int:
    """The crédit d'heures of one quarter, in minutes. Raises DomainError naming the field
    (assemblee, fonction, population, majoration, temps_travail) when an input is outside the law."""
    if assemblee not in Fonction.BY_ASSEMBLEE:
        raise DomainError("Choisissez le conseil où vous siégez.", code="assemblee", field="assemblee")
    if fonction not in Fonction.BY_ASSEMBLEE[assemblee]:
        raise DomainError(
            "Cette fonction n'existe pas dans ce conseil : choisissez maire, adjoint ou conseiller pour une commune, "
            "président, vice-président ou conseiller pour un département ou une région.",
            code="fonction", field="fonction",
        )
    if majoration is None or not 0 <= majoration <= MAJORATION_MAX:
        raise DomainError(
            f"La majoration est comprise entre 0 et {MAJORATION_MAX} %.", code="majoration", field="majoration"
        )
    if temps_travail is None or not 1 <= temps_travail <= 100:
        raise DomainError(
            "Le temps de travail est un pourcentage du temps plein, entre 1 et 100 %.",
            code="temps_travail", field="temps_travail",
        )
    if assemblee == Assemblee.COMMUNE:
        if population is None or population < 0:
            raise DomainError(
                "Indiquez la population de la commune (nombre d'habitants).", code="population", field="population"
            )
        base = next(minutes for floor, minutes in MUNICIPAL_TABLE[fonction] if population >= floor)
    else:
        base = DEPARTEMENT_REGION_TABLE[fonction]
    # Integers only: base × (100 + majoration) % × temps_travail %, rounded down to the minute.
    return base * (100 + majoration) * temps_travail // 10_000


def quarter_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First and last day of the calendar quarter holding `day`."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = datetime.date(day.year, first_month, 1)
    end = (datetime.date(day.year + 1, 1, 1) if first_month == 10 else datetime.date(day.year, first_month + 3, 1))
    return start, end - datetime.timedelta(days=1)


class Nature:
    CREDIT = "credit"
    REUNION = "reunion"
    CHOICES = [
        (CREDIT, "Crédit d'heures"),
        (REUNION, "Autorisation d'absence pour une réunion"),
    ]


def check_absence(*, nature: str, duree: int, credit: int, used_quarter: int, used_year: int) -> None:
    """May an absence of `duree` minutes be taken? `credit` is the quarter's crédit, `used_quarter`
    the crédit d'heures already taken this quarter, `used_year` all absences this calendar year.
    Raises DomainError on the field duree (or nature) with what is left."""
    if nature not in (Nature.CREDIT, Nature.REUNION):
        raise DomainError("Choisissez le type d'absence.", code="nature", field="nature")
    if duree is None or duree <= 0:
        raise DomainError("La durée de l'absence doit être positive.", code="duree", field="duree")
    if nature == Nature.CREDIT and used_quarter + duree > credit:
        raise DomainError(
            f"Cette absence dépasse votre crédit d'heures du trimestre : il vous reste "
            f"{format_minutes(max(credit - used_quarter, 0))} sur {format_minutes(credit)} "
            "(les heures non utilisées ne se reportent pas).",
            code="credit_depasse", field="duree",
        )
    if used_year + duree > ANNUAL_CAP_MINUTES:
        raise DomainError(
            f"Cette absence dépasse le plafond annuel de {format_minutes(ANNUAL_CAP_MINUTES)} d'absences "
            f"(crédit d'heures et autorisations d'absence) : il vous reste "
            f"{format_minutes(max(ANNUAL_CAP_MINUTES - used_year, 0))} cette année.",
            code="plafond_annuel", field="duree",
        )


def format_minutes(minutes: int) -> str:
    """7350 -> '122 h 30', 8400 -> '140 h', 45 -> '0 h 45'."""
    hours, rest = divmod(int(minutes), MINUTES)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def compensation_max() -> Decimal:
    """The most a commune may pay a year to an élu without indemnités (72 h × 16,91 €)."""
    return COMPENSATION_HOURS_MAX * COMPENSATION_RATE_MAX
