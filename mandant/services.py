"""Register lookups for the portail mandant.

Every rule lives in procuration/: the logged-in person is the elector whose whole identité pivot
matches (procuration.registry.electeur_for_pivot: nom de naissance, all prénoms, date of birth,
sexe, country and place of birth); exactly one match is required: none or several (homonyms)
lead to an explanation page, never to a guess. Names and NNE are normalised by
procuration.normalize, as on every other path.
"""

import re

from procuration import registry
from procuration.identity import Pivot
from procuration.models import Commune, Electeur
from procuration.normalize import fold


def electeur_for_user(user) -> tuple[Electeur | None, str]:
    """(elector, "") or (None, reason) with reason "introuvable" or "homonymes"."""
    return registry.electeur_for_pivot(Pivot.of_user(user))


def find_mandataire_by_nne(nne: str, date_naissance) -> Electeur | None:
    """Delegates to the domain's register lookup (NNE format already checked by the form)."""
    return registry.find_mandataire_by_nne(nne, date_naissance)


def find_mandataire_by_etat_civil(nom, prenoms, sexe, date_naissance, commune) -> Electeur | None:
    """The one elector of `commune` with this état civil; None if none or several (homonyms)."""
    return registry.find_electeur_by_etat_civil(nom, prenoms, sexe, date_naissance, commune)


def find_commune(raw: str) -> tuple[Commune | None, str]:
    """A commune from its code INSEE or its exact name; (None, French message) otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return None, "Indiquez la commune où vote le mandataire."
    if re.fullmatch(r"\d[\dAB]\d{3}", raw.upper()):
        c = Commune.objects.filter(code_insee=raw.upper()).first()
        return (c, "") if c else (None, f"Aucune commune n'a le code INSEE {raw}.")
    wanted = fold(raw)
    matches = [c for c in Commune.objects.filter(nom__iexact=raw)] or [
        c for c in Commune.objects.filter(nom__istartswith=raw[:3]) if fold(c.nom) == wanted
    ]
    if len(matches) == 1:
        return matches[0], ""
    if matches:
        return None, "Plusieurs communes portent ce nom : saisissez le code INSEE de la commune."
    return None, f"Commune « {raw} » inconnue : vérifiez l'orthographe ou saisissez son code INSEE."
