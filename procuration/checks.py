"""The automatic checks of a procuration, computed by the domain for every portal.

`evaluate` returns the verdicts the mairie sees in its queue and the mandant sees while typing.
`raise_for_demande` and `raise_for_validation` enforce the blocking ones inside the transition's
transaction, after locking the elector rows, so that the plafond holds under concurrency.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from procuration.exceptions import DomainError
from procuration.models.procuration import ACTIVE_FOR_MANDANT, ACTIVE_FOR_PLAFOND, Etablissement
from procuration.models.territory import Electeur, Liste, Scrutin, ScrutinType

PLAFOND_TOTAL = 2  # L.73: at most two procurations...
PLAFOND_FRANCE = 1  # ...of which only one established in France.
DUREE_MAX_ANNEES_FRANCE = 1  # durée limitée: at most one year when established in France...
DUREE_MAX_ANNEES_ETRANGER = 3  # ...three years when established abroad (Français établis hors de France).


@dataclass(frozen=True)
class CheckResult:
    code: str
    label: str
    ok: bool
    message: str

    @property
    def verdict(self) -> str:
        return "Conforme" if self.ok else "Non conforme"


def _others(qs, p):
    return qs.exclude(pk=p.pk) if p.pk else qs


def mandataire_load(p) -> tuple[int, int]:
    """(total, in France) of the mandataire's binding procurations overlapping p's validity."""
    from procuration.models.procuration import Procuration

    qs = _others(
        Procuration.objects.filter(mandataire_id=p.mandataire_id, status__in=ACTIVE_FOR_PLAFOND).overlapping(
            p.valid_from, p.valid_until
        ),
        p,
    )
    if p.pk and p.autorite_at:
        # The earliest stand (L.73): only those established before this one count against it.
        qs = qs.filter(Q(autorite_at__lt=p.autorite_at) | Q(autorite_at=p.autorite_at, pk__lt=p.pk))
    total = qs.count()
    france = qs.filter(etablissement=Etablissement.FRANCE).count()
    return total, france


def plafond_ok(p) -> bool:
    total, france = mandataire_load(p)
    if total >= PLAFOND_TOTAL:
        return False
    if p.etablissement == Etablissement.FRANCE and france >= PLAFOND_FRANCE:
        return False
    return True


def duplicate_for_mandant(p):
    from procuration.models.procuration import Procuration

    return _others(
        Procuration.objects.filter(mandant_id=p.mandant_id, status__in=ACTIVE_FOR_MANDANT).overlapping(
            p.valid_from, p.valid_until
        ),
        p,
    ).first()


def liste_complementaire_interdite(p) -> bool:
    if p.mandataire.liste != Liste.COMPLEMENTAIRE:
        return False
    if p.portee == "scrutin" and p.scrutin_id:
        return p.scrutin.interdit_liste_complementaire
    return (
        Scrutin.objects.filter(type__in=[ScrutinType.PRESIDENTIELLE, ScrutinType.LEGISLATIVES])
        .filter(Q(date_tour1__range=(p.valid_from, p.valid_until)) | Q(date_tour2__range=(p.valid_from, p.valid_until)))
        .exists()
    )


def evaluate(p) -> list[CheckResult]:
    """Every automatic check with its verdict, for display."""
    mandant, mandataire = p.mandant, p.mandataire
    results = [
        CheckResult(
            "mandant_inscrit",
            "Mandant inscrit",
            mandant.peut_voter and mandant.commune_id == p.commune_id,
            "Inscrit sur la liste électorale de la commune."
            if mandant.peut_voter and mandant.commune_id == p.commune_id
            else "Le mandant n'est pas (ou plus) inscrit sur la liste électorale de la commune.",
        ),
        CheckResult(
            "mandataire_inscrit",
            "Mandataire inscrit",
            mandataire.peut_voter,
            f"Inscrit à {mandataire.commune.nom}." if mandataire.peut_voter
            else "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter.",
        ),
    ]
    total, france = mandataire_load(p)
    ok = plafond_ok(p)
    results.append(
        CheckResult(
            "plafond",
            "Plafond du mandataire",
            ok,
            f"Le mandataire détient {total} autre(s) procuration(s) sur la période, dont {france} établie(s) en France."
            if ok
            else "Le mandataire détient déjà le nombre maximal de procurations (deux, dont une seule établie en France).",
        )
    )
    doublon = duplicate_for_mandant(p)
    results.append(
        CheckResult(
            "doublon",
            "Procuration unique du mandant",
            doublon is None,
            "Aucune autre procuration du mandant sur la période."
            if doublon is None
            else f"Le mandant a déjà une procuration pour ces dates (référence {doublon.reference}).",
        )
    )
    tutelle = mandant.sous_tutelle and mandant.tuteur_id == mandataire.pk
    results.append(
        CheckResult(
            "tutelle",
            "Tutelle (L.72-1)",
            not tutelle,
            "Sans objet." if not tutelle
            else "Un majeur sous tutelle ne peut pas donner procuration à son tuteur ou curateur.",
        )
    )
    complementaire = liste_complementaire_interdite(p)
    results.append(
        CheckResult(
            "liste_complementaire",
            "Liste complémentaire",
            not complementaire,
            "Sans objet." if not complementaire
            else "Un électeur inscrit sur une liste complémentaire ne peut pas être mandataire "
            "pour l'élection présidentielle ou les élections législatives.",
        )
    )
    return results


def all_pass(p) -> bool:
    return all(r.ok for r in evaluate(p))


def add_years(d: datetime.date, years: int) -> datetime.date:
    """Same day `years` later; 29 February becomes 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def duree_max_end(p) -> datetime.date:
    """Last day a durée limitée starting on p.valid_from may run to (1 year in France, 3 abroad)."""
    years = DUREE_MAX_ANNEES_FRANCE if p.etablissement == Etablissement.FRANCE else DUREE_MAX_ANNEES_ETRANGER
    return add_years(p.valid_from, years)


def raise_for_validity(p, today: datetime.date | None = None) -> None:
    """The validity period: not in the past, start before end, durée limitée within its maximum."""
    from django.utils import timezone

    today = today or timezone.localdate()
    if p.valid_from is None or p.valid_until is None:
        raise DomainError("Indiquez la période de validité.", code="periode", field="valid_from")
    if p.valid_until < p.valid_from:
        raise DomainError("La date de fin doit suivre la date de début.", code="periode", field="valid_until")
    if p.portee == "duree":
        if p.valid_from < today:
            raise DomainError("La date de début ne peut pas être dans le passé.", code="passe", field="valid_from")
        if p.valid_until > duree_max_end(p):
            if p.etablissement == Etablissement.FRANCE:
                message = "Une procuration établie en France vaut au plus un an : choisissez une date de fin plus proche."
            else:
                message = "Une procuration établie à l'étranger vaut au plus trois ans : choisissez une date de fin plus proche."
            raise DomainError(message, code="duree", field="valid_until")
    elif p.valid_from < today:
        raise DomainError("Le scrutin ou le tour choisi est déjà passé.", code="passe", field="scrutin")


def raise_for_demande(p) -> None:
    """Blocking rules when the demande is submitted (mandant row locked)."""
    Electeur.objects.select_for_update().filter(pk=p.mandant_id).first()
    if p.mandant_id == p.mandataire_id:
        raise DomainError("Le mandataire doit être une autre personne que vous.", code="self", field="mandataire")
    if not p.mandataire.peut_voter:
        raise DomainError("Le mandataire n'est inscrit sur aucune liste électorale.", code="mandataire_non_inscrit")
    raise_for_validity(p)
    for r in evaluate(p):
        if not r.ok:
            raise DomainError(r.message, code=r.code)


def raise_for_validation(p) -> None:
    """Blocking rules when an authority validates: the mandataire row is locked first."""
    Electeur.objects.select_for_update().filter(pk=p.mandataire_id).first()
    if not plafond_ok(p):
        raise DomainError(
            "Le mandataire détient déjà le nombre maximal de procurations (deux, dont une seule établie en France).",
            code="plafond",
        )
    doublon = duplicate_for_mandant(p)
    if doublon is not None and doublon.status in ACTIVE_FOR_PLAFOND:
        raise DomainError(
            f"Le mandant a déjà une procuration validée pour ces dates (référence {doublon.reference}).", code="doublon"
        )
