"""Finding electors in the register (the REU extract), as the portals need it.

A mandataire is identified either by NNE + date of birth, or by état civil (nom, prénoms, sexe,
date of birth) + commune of vote (service-public F1604). Only electors on a list (inscrit) are
found: a radiated elector is not "on a list" and answers like an unknown one.
"""

import datetime

from django.db import models, transaction

from procuration.exceptions import DomainError
from procuration.fixed_select import FixedSelect
from procuration.identity import Pivot
from procuration.models.audit import AuditLog
from procuration.models.procuration import TRANSITIONS, AnnulationMotif, Procuration
from procuration.models.territory import Commune, Electeur
from procuration.normalize import fold, normalize_nne

__all__ = ["fold", "normalize_nne", "find_mandataire_by_nne", "find_electeur_by_etat_civil", "electeur_for_pivot",
           "RadiationMotif", "radier_electeur", "quitter_commune"]


def find_mandataire_by_nne(nne: str, date_naissance: datetime.date) -> Electeur | None:
    """The elector on a list with this NNE and date of birth, or None (both must match)."""
    found = _BY_NNE([normalize_nne(nne), date_naissance])  # the NNE is unique: one row at most
    return found[0] if found else None


def _prenoms_match(typed: str, registered: str) -> bool:
    """All typed prénoms, in order, starting from the first registered one: 'Marie' matches
    'Marie Claire', 'Marie Claire' matches 'Marie-Claire', 'Claire' does not match 'Marie Claire'."""
    t, r = fold(typed).split(), fold(registered).split()
    return bool(t) and r[: len(t)] == t


def find_electeur_by_etat_civil(
    nom: str, prenoms: str, sexe: str, date_naissance: datetime.date, commune
) -> Electeur | None:
    """The one elector on the lists of `commune` (a Commune, its pk or its code INSEE) with this
    état civil, or None when there is none or more than one (homonyms: ask for the NNE).
    The nom matches the nom de naissance or the nom d'usage; case and accents are ignored."""
    if isinstance(commune, Commune):
        commune_filter = {"commune": commune}
    elif isinstance(commune, str):
        commune_filter = {"commune__code_insee": commune}
    else:
        commune_filter = {"commune_id": commune}
    wanted = fold(nom)
    if not wanted or not fold(prenoms):
        return None
    candidates = Electeur.objects.select_related("commune").filter(
        date_naissance=date_naissance, sexe=sexe, inscrit=True, **commune_filter
    )
    found = [
        e for e in candidates
        if wanted in (fold(e.nom), fold(e.nom_usage)) and _prenoms_match(prenoms, e.prenoms)
    ]
    return found[0] if len(found) == 1 else None


# The mandataire typed by NNE (the demande's step 2 and its live check while typing): the same row as
# Electeur.objects.select_related("commune").filter(nne=…, date_naissance=…, inscrit=True).first().
_BY_NNE = FixedSelect(Electeur, ("commune",), 't."nne" = %s AND t."date_naissance" = %s AND t."inscrit"')
# Every step of a mandant's demande looks up the elector of the login: one statement written once per
# process (procuration/fixed_select.py), the same rows as
# Electeur.objects.select_related("commune", "bureau").filter(date_naissance=…, sexe=…,
# code_pays_naissance=…, code_lieu_naissance=…, inscrit=True, deces=False) (tests/procuration/test_fixed_select.py).
_BY_PIVOT = FixedSelect(
    Electeur, ("commune", "bureau"),
    't."date_naissance" = %s AND t."sexe" = %s AND t."code_pays_naissance" = %s AND t."code_lieu_naissance" = %s '
    'AND t."inscrit" AND NOT t."deces"',
)


def electeur_for_pivot(pivot) -> tuple[Electeur | None, str]:
    """The one living elector on a list whose identité pivot matches the login's (nom de
    naissance, all prénoms, date of birth, sexe, country and place of birth: see
    procuration.identity.Pivot), as (electeur, ""); or (None, "introuvable") when none matches
    or the pivot is incomplete; or (None, "homonymes") when several do: nothing is guessed."""
    if not pivot.complete:
        return None, "introuvable"
    candidates = _BY_PIVOT([pivot.birthdate, pivot.gender, pivot.birthcountry, pivot.birthplace])
    found = [e for e in candidates if Pivot.of_electeur(e).matches(pivot)]
    if len(found) == 1:
        return found[0], ""
    return None, "homonymes" if found else "introuvable"


class RadiationMotif(models.TextChoices):
    """An event of the register that takes an elector off the lists."""

    DECES = "deces", "Décès"
    RADIATION = "radiation", "Radiation des listes électorales"
    DROITS_CIVIQUES = "droits_civiques", "Privation des droits civiques"


# What a death or a radiation ends: a demande pending or a procuration in force (procuration.annuler), by
# effective status: a demande past its two months is already expirée, recorded or not.
_IN_FORCE = TRANSITIONS["annuler"][0]
_VOIDS = {
    # motif: (as mandataire, as mandant)
    RadiationMotif.DECES: (AnnulationMotif.DECES_MANDATAIRE, AnnulationMotif.DECES_MANDANT),
    RadiationMotif.RADIATION: (AnnulationMotif.RADIATION_MANDATAIRE, AnnulationMotif.RADIATION_MANDANT),
    RadiationMotif.DROITS_CIVIQUES: (AnnulationMotif.RADIATION_MANDATAIRE, AnnulationMotif.RADIATION_MANDANT),
}


def radier_electeur(electeur: Electeur, motif: str, *, by=None) -> list[Procuration]:
    """Record a death, a radiation or a loss of civic rights on the elector, and void (Procuration.annuler)
    every demande pending and procuration in force where they are the mandataire (the death or the loss of civic
    rights of the mandataire voids it: ../shared/domain.md) or the mandant (off the commune's list, the procuration cannot serve);
    each mandant is e-mailed in the same transaction (not a deceased one). Returns the voided procurations.
    Idempotent: a second call voids nothing more."""
    if motif not in _VOIDS:
        raise DomainError("Motif de radiation inconnu.", field="radiation")
    as_mandataire, as_mandant = _VOIDS[motif]
    with transaction.atomic():
        e = Electeur.objects.select_for_update().get(pk=electeur.pk)
        e.inscrit = False
        if motif == RadiationMotif.DECES:
            e.deces = True
        elif motif == RadiationMotif.DROITS_CIVIQUES:
            e.droits_civiques = False
        e.save(update_fields=["inscrit", "deces", "droits_civiques"])
        voided = []
        for role, annulation in (("mandataire", as_mandataire), ("mandant", as_mandant)):
            for p in Procuration.objects.filter(**{role: e}).statut_effectif_in(*_IN_FORCE).order_by("pk"):
                if p.annuler(motif=annulation, by=by):
                    voided.append(p)
        # In the register's audit trail (append-only), like the radiation of a move (listes.models).
        AuditLog.record(by, "registre.radiation", e, nne=e.nne, commune=e.commune.code_insee, motif=motif,
                        procurations_annulees=[p.reference for p in voided])
    electeur.inscrit, electeur.deces, electeur.droits_civiques = e.inscrit, e.deces, e.droits_civiques
    return voided


def quitter_commune(electeur: Electeur, ancienne_commune, *, by=None) -> list[Procuration]:
    """A move (listes: an ILE accepted in another commune): the elector stays on a list, so their
    procurations as mandataire stand; those they gave in the former commune can no longer serve (one
    votes in one's own bureau): void (motif radiation_mandant), each mandant told. Returns them."""
    with transaction.atomic():
        return [
            p for p in Procuration.objects.filter(mandant=electeur, commune=ancienne_commune).statut_effectif_in(*_IN_FORCE)
            .order_by("pk") if p.annuler(motif=AnnulationMotif.RADIATION_MANDANT, by=by)
        ]
