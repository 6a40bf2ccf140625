"""« mairie d'Almayrac », « Procurations du Mans »: one helper (Commune.de_nom) used by every page,
e-mail and PDF that names a commune after « de »."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from procuration.models.territory import de, de_commune
from tests.factories import CommuneFactory


@pytest.mark.parametrize(("nom", "expected"), [
    ("Almayrac", "d'Almayrac"),
    ("Paris", "de Paris"),
    ("Évry-Courcouronnes", "d'Évry-Courcouronnes"),
    ("Yvetot", "d'Yvetot"),
    ("Hyères", "d'Hyères"),  # mute h
    ("Haguenau", "de Haguenau"),  # aspirated h
    ("Le Mans", "du Mans"),
    ("Le Puy-en-Velay", "du Puy-en-Velay"),
    ("Les Ulis", "des Ulis"),
    ("La Rochelle", "de La Rochelle"),
    ("L'Isle-Adam", "de L'Isle-Adam"),
    ("Lempdes", "de Lempdes"),  # « Le » only as a word
    ("Lesparre-Médoc", "de Lesparre-Médoc"),
])
def test_de_commune(nom, expected):
    assert de_commune(nom) == expected


@pytest.mark.django_db
def test_commune_de_nom():
    assert CommuneFactory(nom="Le Mans", code_insee="72181").de_nom == "du Mans"


@pytest.mark.django_db
def test_mairie_home_uses_the_elision(client, agent_mairie):
    client.force_login(agent_mairie)
    page = unescape(client.get(reverse("mairie:home")).content.decode())
    assert "<h1>Procurations d'Almayrac</h1>" in page


SOURCES = ("templates", "mandant", "police", "mairie", "listes", "procuration", "backoffice", "elus")
# « de » written before a commune's name instead of the helper, in a template or an f-string.
WRONG = re.compile(r"\bde \{\{ ?[\w.]*commune\.nom ?\}\}|\bde \{[\w.]*commune\.nom\}|\bde \{\{ ?[\w.]*commune ?\}\}",
                   re.I)


def test_no_commune_is_named_after_a_bare_de():
    base = Path(settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(base)}:{n}"
        for folder in SOURCES for path in (base / folder).rglob("*")
        if path.suffix in {".html", ".txt", ".py"} and "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if WRONG.search(line)
    ]
    assert not offenders, offenders


def test_the_de_filter_is_the_same_rule():
    from django.template import Context, Template

    rendered = Template("{% load french %}{{ a|de }} / {{ b|de }} / {{ c|de }}").render(
        Context({"a": "Almayrac", "b": "Le Mans", "c": "Hyères"}))
    assert unescape(rendered) == "d'Almayrac / du Mans / d'Hyères"


@pytest.mark.parametrize(("word", "expected"), [
    ("accepter", "d'accepter"),
    ("invalider (mairie)", "d'invalider (mairie)"),
    ("annuler", "d'annuler"),
    ("établir", "d'établir"),
    ("habiliter", "d'habiliter"),
    ("valider (mairie)", "de valider (mairie)"),
    ("résilier", "de résilier"),
    ("marquer comme reçu", "de marquer comme reçu"),
])
def test_de_before_a_verb(word, expected):
    """The messages of a refused transition: « Impossible d'accepter un dossier… », not « de accepter »."""
    assert de(word) == expected
