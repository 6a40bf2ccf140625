"""The automatic checks of procuration.checks.evaluate, for a whole page of the queue at once.

checks.evaluate runs a few queries per procuration; the queue shows fifty rows, so this module
computes the same verdicts (same codes, labels and messages) with a fixed number of queries:
one for the mandataires' binding procurations (plafond), one for the mandants' (doublon), one
for the scrutins that forbid a liste complémentaire. tests/mairie/test_prechecks.py compares
both on the same data.

The rows must come with mandant, mandataire, mandataire__commune and scrutin selected.
"""

from collections import defaultdict
from dataclasses import dataclass

from procuration.checks import PLAFOND_FRANCE, PLAFOND_TOTAL, CheckResult
from procuration.models import Liste, Portee, Procuration, Scrutin, ScrutinType
from procuration.models.procuration import ACTIVE_FOR_MANDANT, ACTIVE_FOR_PLAFOND, Etablissement

# The three the queue shows in columns; the others are shown only when they fail.
QUEUE_COLUMNS = ("mandant_inscrit", "mandataire_inscrit", "plafond")


@dataclass
class Verdict:
    results: list[CheckResult]

    @property
    def all_ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def columns(self) -> list[CheckResult]:
        return [r for r in self.results if r.code in QUEUE_COLUMNS]

    @property
    def other_failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.code not in QUEUE_COLUMNS and not r.ok]


def _overlaps(a, b) -> bool:
    return a.valid_from <= b.valid_until and a.valid_until >= b.valid_from


def _counts_against(p, other) -> bool:
    """checks.mandataire_load's filter, in Python."""
    if other.pk == p.pk or not _overlaps(p, other):
        return False
    if p.pk and p.autorite_at:
        if other.autorite_at is None:
            return False
        return other.autorite_at < p.autorite_at or (other.autorite_at == p.autorite_at and other.pk < p.pk)
    return True


def evaluate_page(rows) -> dict[int, Verdict]:
    rows = list(rows)
    if not rows:
        return {}
    fields = ("pk", "mandant_id", "mandataire_id", "status", "valid_from", "valid_until", "autorite_at",
              "etablissement", "reference")
    by_mandataire = defaultdict(list)
    for o in Procuration.objects.filter(
        mandataire_id__in={p.mandataire_id for p in rows}, status__in=ACTIVE_FOR_PLAFOND
    ).only(*fields).order_by():
        by_mandataire[o.mandataire_id].append(o)
    by_mandant = defaultdict(list)
    for o in Procuration.objects.filter(
        mandant_id__in={p.mandant_id for p in rows}, status__in=ACTIVE_FOR_MANDANT
    ).only(*fields).order_by("pk"):
        by_mandant[o.mandant_id].append(o)
    forbidding = list(
        Scrutin.objects.filter(type__in=[ScrutinType.PRESIDENTIELLE, ScrutinType.LEGISLATIVES]).values_list(
            "date_tour1", "date_tour2"
        )
    )
    return {p.pk: Verdict(_results(p, by_mandataire[p.mandataire_id], by_mandant[p.mandant_id], forbidding)) for p in rows}


def _results(p, mandataire_others, mandant_others, forbidding) -> list[CheckResult]:
    mandant, mandataire = p.mandant, p.mandataire
    mandant_ok = mandant.peut_voter and mandant.commune_id == p.commune_id
    results = [
        CheckResult(
            "mandant_inscrit", "Mandant inscrit", mandant_ok,
            "Inscrit sur la liste électorale de la commune." if mandant_ok
            else "Le mandant n'est pas (ou plus) inscrit sur la liste électorale de la commune.",
        ),
        CheckResult(
            "mandataire_inscrit", "Mandataire inscrit", mandataire.peut_voter,
            f"Inscrit à {mandataire.commune.nom}." if mandataire.peut_voter
            else "Le mandataire n'est inscrit sur aucune liste électorale ou ne peut pas voter.",
        ),
    ]
    counted = [o for o in mandataire_others if _counts_against(p, o)]
    total = len(counted)
    france = sum(1 for o in counted if o.etablissement == Etablissement.FRANCE)
    ok = not (total >= PLAFOND_TOTAL or (p.etablissement == Etablissement.FRANCE and france >= PLAFOND_FRANCE))
    results.append(
        CheckResult(
            "plafond", "Plafond du mandataire", ok,
            f"Le mandataire détient {total} autre(s) procuration(s) sur la période, dont {france} établie(s) en France."
            if ok
            else "Le mandataire détient déjà le nombre maximal de procurations (deux, dont une seule établie en France).",
        )
    )
    doublon = next((o for o in mandant_others if o.pk != p.pk and _overlaps(p, o)), None)
    results.append(
        CheckResult(
            "doublon", "Procuration unique du mandant", doublon is None,
            "Aucune autre procuration du mandant sur la période." if doublon is None
            else f"Le mandant a déjà une procuration pour ces dates (référence {doublon.reference}).",
        )
    )
    tutelle = mandant.sous_tutelle and mandant.tuteur_id == mandataire.pk
    results.append(
        CheckResult(
            "tutelle", "Tutelle (L.72-1)", not tutelle,
            "Sans objet." if not tutelle
            else "Un majeur sous tutelle ne peut pas donner procuration à son tuteur ou curateur.",
        )
    )
    complementaire = False
    if mandataire.liste == Liste.COMPLEMENTAIRE:
        if p.portee == Portee.SCRUTIN and p.scrutin_id:
            complementaire = p.scrutin.interdit_liste_complementaire
        else:
            complementaire = any(
                p.valid_from <= d1 <= p.valid_until or (d2 is not None and p.valid_from <= d2 <= p.valid_until)
                for d1, d2 in forbidding
            )
    results.append(
        CheckResult(
            "liste_complementaire", "Liste complémentaire", not complementaire,
            "Sans objet." if not complementaire
            else "Un électeur inscrit sur une liste complémentaire ne peut pas être mandataire "
            "pour l'élection présidentielle ou les élections législatives.",
        )
    )
    return results


QUEUE_RELATED = ("mandant", "mandant__bureau", "mandataire", "mandataire__commune", "scrutin")
