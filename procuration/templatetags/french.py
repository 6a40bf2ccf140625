"""French typography helpers for templates: {{ commune.nom|de }} -> « d'Almayrac », « du Mans ».

The rule lives once, in procuration.models.territory.de_commune (also Commune.de_nom)."""

from django import template

from procuration.models.territory import de_commune

register = template.Library()


@register.filter
def de(name: str) -> str:
    """« de » before a commune's name, with the elision and contracted articles: d'Almayrac, d'Évry,
    de Loisieux, du Mans, des Ulis (see de_commune)."""
    return de_commune(str(name or ""))
