"""Finding electors in the register (the REU extract), as the portals need it.

A mandataire is identified either by NNE + date of birth, or by état civil (nom, prénoms, sexe,
date of birth) + commune of vote (service-public F1604). Only electors on a list (inscrit) are
found: a radiated elector is not "on a list" and answers like an unknown one.
"""

import datetime
import re
import unicodedata

from procuration.exceptions import DomainError
from procuration.models.territory import Commune, Electeur

_NNE = re.compile(r"^\d{8,9}$")


def normalize_nne(raw: str) -> str:
    """Digits only (spaces, dots and dashes dropped); 8 or 9 digits, else DomainError."""
    value = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not _NNE.match(value):
        raise DomainError(
            "Le numéro national d'électeur compte 8 ou 9 chiffres ; il figure sur la carte électorale.",
            code="nne", field="nne",
        )
    return value


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form of a name: 'Éloïse-Marie  d'Arc' -> 'eloise marie d arc'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    bare = bare.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def find_mandataire_by_nne(nne: str, date_naissance: datetime.date) -> Electeur | None:
    """The elector on a list with this NNE and date of birth, or None (both must match)."""
    return (
        Electeur.objects.select_related("commune")
        .filter(nne=normalize_nne(nne), date_naissance=date_naissance, inscrit=True)
        .first()
    )


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
