"""How names and NNE typed by people or given by an identity provider are compared.

One home for both rules: every lookup (login matching, the online form, the paper CERFA, the
counter, the mairie) calls these functions, so two paths can never disagree on who a name is.
"""

import re
import unicodedata

from procuration.exceptions import DomainError

# ASCII digits only: an NNE typed with Arabic-Indic (٠١٢…) or fullwidth (０１２…) digits is a
# format error, never a silent "no elector matches".
_NNE = re.compile(r"[0-9]{8,9}")
_NNE_SEPARATORS = re.compile(r"[\s.\-]")
NNE_FORMAT_MESSAGE = "Le numéro national d'électeur compte 8 ou 9 chiffres ; il figure sur la carte électorale."


def fold(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form of a name: 'Éloïse-Marie  d'Arc' -> 'eloise marie d arc'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    bare = bare.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def strip_nne(raw: str) -> str:
    """The NNE as typed, without the spaces, dots and dashes people put in it (not yet checked)."""
    return _NNE_SEPARATORS.sub("", raw or "")


def normalize_nne(raw: str) -> str:
    """Digits only (spaces, dots and dashes dropped); 8 or 9 ASCII digits, else DomainError."""
    value = strip_nne(raw)
    if not _NNE.fullmatch(value):
        raise DomainError(NNE_FORMAT_MESSAGE, code="nne", field="nne")
    return value
