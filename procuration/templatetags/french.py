"""French typography helpers for templates: {{ commune.nom|de }} -> « d'Almayrac », « de Loisieux »."""

import unicodedata

from django import template

register = template.Library()

_VOWELS = set("aeiouy")  # an initial h is not elided here: h muet or aspiré cannot be told apart


def _elides(word: str) -> bool:
    first = unicodedata.normalize("NFKD", word.strip()[:1]).encode("ascii", "ignore").decode().lower()
    return first in _VOWELS


@register.filter
def de(name: str) -> str:
    """« de » before a name, elided before a vowel: d'Almayrac, d'Évry, de Loisieux."""
    name = str(name or "")
    return f"d'{name}" if _elides(name) else f"de {name}"
