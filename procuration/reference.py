"""6-character references that people read aloud and type at a counter.

Alphabet: Crockford's Base32 (digits and uppercase letters without I, L, O, U), 32**6 ≈ 1.07e9
codes. Input is normalised the Crockford way: case folded, spaces and dashes dropped, and the
look-alikes mapped (O → 0, I and L → 1), plus Unicode compatibility forms (full-width letters)
and the Cyrillic and Greek capitals that look like Latin ones.
"""

import secrets
import unicodedata

from procuration.exceptions import DomainError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
_ALLOWED = frozenset(ALPHABET)
_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        # Cyrillic capitals
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "0", "Р": "P", "С": "C", "Т": "T",
        "Х": "X", "У": "Y", "З": "3", "І": "1", "Ѕ": "S", "Ј": "J",
        # Greek capitals
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "1", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "0",
        "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y",
    }
)
_SEPARATORS = str.maketrans("", "", " \t\n\r-_.·\u00a0\u202f")


class InvalidReference(DomainError, ValueError):
    """A typed reference that cannot be one of ours; the message is French, for the user."""


def generate_reference() -> str:
    """Six symbols from the OS CSPRNG. 256 is a multiple of 32, so `byte & 31` is uniform."""
    return "".join([ALPHABET[b & 31] for b in secrets.token_bytes(LENGTH)])


def normalize_reference(raw: str) -> str:
    """Return the canonical reference, or raise InvalidReference with a French message."""
    if raw is None:
        raise InvalidReference("Saisissez la référence d'enregistrement (6 caractères).")
    value = unicodedata.normalize("NFKC", raw).translate(_SEPARATORS).upper().translate(_LOOKALIKES)
    if not value:
        raise InvalidReference("Saisissez la référence d'enregistrement (6 caractères).")
    if len(value) != LENGTH:
        raise InvalidReference(
            f"La référence d'enregistrement compte 6 caractères ; vous en avez saisi {len(value)}."
        )
    bad = sorted({c for c in value if c not in _ALLOWED})
    if bad:
        raise InvalidReference(
            "La référence ne contient que des chiffres et des lettres majuscules (sans U) ; "
            f"caractère non reconnu : {', '.join(bad)}."
        )
    return value
