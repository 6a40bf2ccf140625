"""Names and NNE are normalised by one function each (procuration/normalize.py), on every path;
procuration/ imports nothing from the portals."""

import ast
import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.html import escape

from procuration import normalize, registry
from procuration.cerfa import CerfaForm
from procuration.exceptions import DomainError
from tests.factories import ElecteurFactory, ScrutinFactory
from tests.mandant.test_demande import post_validite

ARABIC_INDIC = "١٢٣٤٥٦٧٨٩"  # 123456789 in Arabic-Indic digits
FULLWIDTH = "１２３４５６７８９"  # 123456789 in fullwidth digits
FORMAT = "Le numéro national d'électeur compte 8 ou 9 chiffres"


@pytest.mark.parametrize("raw", [ARABIC_INDIC, FULLWIDTH, "12345678a", "1234567", "1234567890", ""])
def test_an_nne_that_is_not_8_or_9_ascii_digits_is_a_format_error(raw):
    with pytest.raises(DomainError) as exc:
        normalize.normalize_nne(raw)
    assert exc.value.field == "nne" and FORMAT in exc.value.message


@pytest.mark.parametrize("raw", ["123456789", " 123 456 789 ", "123.456.789", "12-345-678", "123\u00a0456\u00a0789"])
def test_separators_are_dropped(raw):
    assert normalize.normalize_nne(raw) == raw.replace(" ", "").replace(".", "").replace("-", "").replace("\u00a0", "")


@pytest.mark.parametrize("raw", [ARABIC_INDIC, FULLWIDTH])
def test_non_ascii_digits_get_a_format_error_in_the_mandant_form(client, mandant_user, raw):
    ElecteurFactory(nne="123456789", date_naissance=datetime.date(1975, 2, 3))
    client.force_login(mandant_user)
    post_validite(client, ScrutinFactory())
    response = client.post(reverse("mandant:demande_mandataire"),
                           {"mode": "nne", "nne": raw, "date_naissance_nne": "1975-02-03"})
    errors = response.context["form"].errors["nne"]
    assert any(FORMAT in e for e in errors), errors
    assert "Aucun électeur ne correspond" not in response.content.decode()
    assert escape(FORMAT) in response.content.decode()


@pytest.mark.parametrize("raw", [ARABIC_INDIC, FULLWIDTH])
def test_non_ascii_digits_get_a_format_error_on_the_paper_cerfa(db, raw):
    ElecteurFactory(nne="123456789", date_naissance=datetime.date(1975, 2, 3))
    form = CerfaForm({"mandataire_nne": raw, "mandataire_date_naissance": "1975-02-03"})
    form.is_valid()
    assert any(FORMAT in e for e in form.errors["mandataire_nne"]), form.errors
    with pytest.raises(DomainError):
        registry.find_mandataire_by_nne(raw, datetime.date(1975, 2, 3))


def test_one_name_folding():
    assert normalize.fold("  LECŒUR-d'Été ") == normalize.fold("Lecoeur d ete") == "lecoeur d ete"
    assert registry.fold is normalize.fold


PORTALS = {"mandant", "police", "mairie", "listes"}


def test_procuration_imports_nothing_from_the_portals():
    root = Path(normalize.__file__).resolve().parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.relative_to(root.parent)}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in PORTALS]
    assert not offenders, offenders
