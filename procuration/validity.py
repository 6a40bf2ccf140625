"""The validity period of a procuration: the one home of the rule (docs/domain.md, « Où vit chaque règle »).

A procuration is given for one scrutin (1st tour, 2nd tour or both: its dates are those of the
tours, never typed), or for a durée limitée of at most one year when established in France and
three years when established abroad (Français établis hors de France).

`periode` computes the dates and checks them; it raises a DomainError naming the form field, which
the online demande, the paper CERFA (police and mairie) and Procuration.soumettre all use.
"""

import datetime

from django.utils import timezone

from procuration.exceptions import DomainError
from procuration.models.procuration import Etablissement, Portee

DUREE_MAX_ANNEES = {Etablissement.FRANCE: 1, Etablissement.ETRANGER: 3}


def add_years(d: datetime.date, years: int) -> datetime.date:
    """Same day `years` later; 29 February becomes 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def duree_max_end(valid_from: datetime.date, etablissement: str) -> datetime.date:
    """Last day a durée limitée starting on valid_from may run to."""
    return add_years(valid_from, DUREE_MAX_ANNEES.get(etablissement, DUREE_MAX_ANNEES[Etablissement.FRANCE]))


def periode(
    *,
    portee: str,
    scrutin=None,
    tour1: bool = False,
    tour2: bool = False,
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    etablissement: str = Etablissement.FRANCE,
    today: datetime.date | None = None,
    commune=None,
) -> tuple[datetime.date, datetime.date]:
    """(valid_from, valid_until) of the procuration, or DomainError(field=…, message in French).
    With `commune` (the mandant's), the scrutin must concern it (Scrutin.objects.concernant): a
    partielle of another commune is not a scrutin the mandant votes in."""
    today = today or timezone.localdate()
    if portee == Portee.SCRUTIN:
        if scrutin is None:
            raise DomainError("Choisissez le scrutin pour lequel la procuration est donnée.", code="scrutin",
                              field="scrutin")
        if commune is not None and not scrutin.concerne(commune):
            raise DomainError(
                f"« {scrutin.libelle} » n'a pas lieu dans la commune {commune.de_nom} : choisissez un scrutin "
                "organisé dans la commune où le mandant vote.", code="scrutin_hors_commune", field="scrutin",
            )
        if scrutin.derniere_date < today:
            raise DomainError(f"Ce scrutin est déjà passé (dernier tour le {scrutin.derniere_date:%d/%m/%Y}).",
                              code="passe", field="scrutin")
        if not (tour1 or tour2):
            raise DomainError("Cochez au moins un tour.", code="tour", field="tour1")
        if tour2 and not scrutin.date_tour2:
            raise DomainError("Ce scrutin n'a qu'un tour.", code="tour", field="tour2")
        if tour1 and scrutin.date_tour1 < today:
            raise DomainError(f"Le 1er tour de ce scrutin est déjà passé ({scrutin.date_tour1:%d/%m/%Y}).",
                              code="passe", field="tour1")
        start = scrutin.date_tour1 if tour1 else scrutin.date_tour2
        end = scrutin.date_tour2 if tour2 else scrutin.date_tour1
        return start, end
    if portee == Portee.DUREE:
        if valid_from is None:
            raise DomainError("Indiquez la date de début de validité.", code="periode", field="valid_from")
        if valid_until is None:
            raise DomainError("Indiquez la date de fin de validité.", code="periode", field="valid_until")
        if valid_from < today:
            raise DomainError("La date de début ne peut pas être déjà passée.", code="passe", field="valid_from")
        if valid_until < valid_from:
            raise DomainError("La date de fin doit être postérieure à la date de début.", code="periode",
                              field="valid_until")
        _raise_if_too_long(valid_from, valid_until, etablissement)
        return valid_from, valid_until
    raise DomainError("Indiquez si la procuration vaut pour un scrutin ou pour une durée limitée.", code="portee",
                      field="portee")


def periode_of(p, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """periode() applied to a Procuration's own fields."""
    return periode(
        portee=p.portee, scrutin=p.scrutin if p.scrutin_id else None, tour1=p.tour1, tour2=p.tour2,
        valid_from=p.valid_from, valid_until=p.valid_until, etablissement=p.etablissement, today=today,
        commune=p.commune if p.commune_id else None,
    )


def _raise_if_too_long(valid_from: datetime.date, valid_until: datetime.date, etablissement: str) -> None:
    if valid_until > duree_max_end(valid_from, etablissement):
        if etablissement == Etablissement.ETRANGER:
            message = ("Une procuration établie à l'étranger vaut au plus trois ans : "
                       "choisissez une date de fin plus proche.")
        else:
            message = ("Une procuration établie en France vaut au plus un an : "
                       "choisissez une date de fin plus proche.")
        raise DomainError(message, code="duree", field="valid_until")


def raise_for_duree(p) -> None:
    """The durée allowed follows where the procuration is established, re-checked when the authority
    that checked the identity records it (a mandant who answered « à l'étranger » but is validated at a
    commissariat in France gets at most one year)."""
    if p.portee == Portee.DUREE:
        _raise_if_too_long(p.valid_from, p.valid_until, p.etablissement)
