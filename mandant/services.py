"""Register lookups for the portail mandant.

Matching rules (deterministic, documented in docs/mandant.md):
- names are compared without accents, case, hyphens, apostrophes or repeated spaces;
- the logged-in person is the elector whose nom (de naissance, or d'usage) equals the
  family_name, whose first prénom equals the first given name, born on the birthdate and, when
  the identity provider gives a gender, of that sexe. Exactly one match is required: none or
  several (homonyms born the same day) lead to an explanation page, never to a guess.
"""

import re
import unicodedata

from procuration.models import Commune, Electeur

NNE_RE = re.compile(r"^\d{8,9}$")


def normalize_name(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "")
    value = "".join(c for c in value if not unicodedata.combining(c))
    value = re.sub(r"[-'’\s]+", " ", value).strip().upper()
    return value


def first_name(value: str) -> str:
    parts = normalize_name(value).split()
    return parts[0] if parts else ""


def normalize_nne(raw: str) -> str:
    return re.sub(r"[\s.\-]", "", raw or "")


def _same_person(e: Electeur, nom: str, prenom: str, sexe: str = "") -> bool:
    noms = {normalize_name(e.nom), normalize_name(e.nom_usage)} - {""}
    if normalize_name(nom) not in noms:
        return False
    if first_name(e.prenoms) != first_name(prenom):
        return False
    return not sexe or e.sexe == sexe


def find_electeurs(nom: str, prenoms: str, date_naissance, sexe: str = "", commune=None) -> list[Electeur]:
    if not (nom and prenoms and date_naissance):
        return []
    qs = Electeur.objects.filter(date_naissance=date_naissance).select_related("commune")
    if commune is not None:
        qs = qs.filter(commune=commune)
    return [e for e in qs if _same_person(e, nom, prenoms, sexe)]


def electeur_for_user(user) -> tuple[Electeur | None, str]:
    """(elector, "") or (None, reason) with reason "introuvable" or "homonymes"."""
    found = [
        e for e in find_electeurs(user.last_name, user.first_name, user.birthdate, user.gender)
        if e.inscrit and not e.deces
    ]
    if len(found) == 1:
        return found[0], ""
    return None, "homonymes" if found else "introuvable"


def find_mandataire_by_nne(nne: str, date_naissance) -> Electeur | None:
    """Delegates to the domain's register lookup (NNE format already checked by the form)."""
    from procuration import registry

    return registry.find_mandataire_by_nne(nne, date_naissance)


def find_mandataire_by_etat_civil(nom, prenoms, sexe, date_naissance, commune) -> Electeur | None:
    """The one elector of `commune` with this état civil; None if none or several (homonyms)."""
    from procuration import registry

    return registry.find_electeur_by_etat_civil(nom, prenoms, sexe, date_naissance, commune)


def find_commune(raw: str) -> tuple[Commune | None, str]:
    """A commune from its code INSEE or its exact name; (None, French message) otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return None, "Indiquez la commune où vote le mandataire."
    if re.fullmatch(r"\d[\dAB]\d{3}", raw.upper()):
        c = Commune.objects.filter(code_insee=raw.upper()).first()
        return (c, "") if c else (None, f"Aucune commune n'a le code INSEE {raw}.")
    wanted = normalize_name(raw)
    matches = [c for c in Commune.objects.filter(nom__iexact=raw)] or [
        c for c in Commune.objects.filter(nom__istartswith=raw[:3]) if normalize_name(c.nom) == wanted
    ]
    if len(matches) == 1:
        return matches[0], ""
    if matches:
        return None, "Plusieurs communes portent ce nom : saisissez le code INSEE de la commune."
    return None, f"Commune « {raw} » inconnue : vérifiez l'orthographe ou saisissez son code INSEE."
