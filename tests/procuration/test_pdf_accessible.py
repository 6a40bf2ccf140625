"""Every PDF of the product is tagged (PDF/UA-1), titled and in French: procuration/pdf.py is the one
way to render them. Checked in the file itself with pikepdf: structure tree, MarkInfo, /Lang, the
title in the Info dictionary and in the XMP metadata, shown as the window title."""

import datetime
import io

import pikepdf
import pytest

from procuration.pdf import render_pdf
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


def structure_types(pdf: pikepdf.Pdf) -> set[str]:
    """The standard structure types (/S) found under the StructTreeRoot."""
    found, stack = set(), [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
        elif isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                found.add(str(node.S))
            if "/K" in node:
                stack.append(node.K)
    return found


def assert_accessible_pdf(data: bytes, title: str, *, has: set[str]) -> None:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root, "untagged PDF"
        assert bool(root.MarkInfo.Marked) is True
        assert str(root.Lang) == "fr"
        assert str(pdf.docinfo["/Title"]) == title
        with pdf.open_metadata() as xmp:
            assert xmp["dc:title"] == title
            assert xmp["pdfuaid:part"] == "1"
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True
        types = structure_types(pdf)
        assert has <= types, f"missing {has - types} in {types}"


def test_recepisse_is_tagged(commune):
    officer = UserFactory(username="opj-ua", policier=True, qualite="OPJ")
    p = ProcurationFactory(mandant=ElecteurFactory(commune=commune), mandataire=ElecteurFactory(commune=commune))
    p.soumettre()
    p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="9876")
    from procuration.documents import recepisse_pdf

    assert_accessible_pdf(recepisse_pdf(p), f"Récépissé de procuration {p.reference}", has={"/Document", "/H1", "/P"})


def test_registre_is_tagged(commune):
    from mairie.registre import build_pdf

    scrutin = ScrutinFactory(libelle="Municipales 2026")
    data = build_pdf([], commune=commune, scrutin=scrutin, tour=1)
    assert_accessible_pdf(data, "Registre des procurations — Almayrac", has={"/Document", "/H1"})


def _teledossier(commune, demarche):
    from listes.models import Teledossier

    return Teledossier.objects.create(
        numero=f"T{demarche}000001", demarche=demarche, commune=commune, usager=UserFactory(username=f"u-{demarche}"),
        email="u@example.org", nom="MARTIN", prenoms="Lucas", sexe="M", date_naissance=datetime.date(2008, 5, 1),
        lieu_naissance="Albi", adresse="5 chemin du Moulin", code_postal="81190", ville="Almayrac",
    )


def test_cerfa_and_attestation_are_tagged(commune):
    from listes.documents import attestation_recensement, cerfa_pdf
    from listes.models import Demarche

    ile = _teledossier(commune, Demarche.ILE)
    assert_accessible_pdf(cerfa_pdf(ile), f"CERFA n° 12669*02 — {ile.numero}", has={"/Document", "/H1"})
    rco = _teledossier(commune, Demarche.RCO)
    assert_accessible_pdf(cerfa_pdf(rco), f"Déclaration de recensement — {rco.numero}", has={"/Document", "/H1"})
    doc = attestation_recensement(rco, by=UserFactory(username="agent-ua"))
    with doc.file.open("rb") as fh:
        assert_accessible_pdf(fh.read(), f"Attestation de recensement — {rco.numero}", has={"/Document", "/H1"})


def test_the_eu_citizens_cerfa_are_tagged(commune):
    """CERFA n° 12670*02 and n° 12671*02 (listes.rules.ile_cerfas), like n° 12669*02."""
    from listes import rules
    from listes.documents import cerfa_pdf
    from listes.models import Teledossier

    d = Teledossier.objects.create(
        numero="TUE000001", demarche="ile", commune=commune, usager=UserFactory(username="u-ue"),
        email="u@example.org", nom="ROSSI", prenoms="Giulia", sexe="F", date_naissance=datetime.date(1988, 4, 2),
        lieu_naissance="Roma", adresse="3 rue des Lilas", code_postal="81190", ville="Almayrac", nationalite="IT",
        complementaire_municipales=True, complementaire_europeennes=True,
    )
    for cerfa in (rules.CERFA_12670, rules.CERFA_12671):
        assert_accessible_pdf(cerfa_pdf(d, cerfa), f"CERFA n° {cerfa.numero} — {d.numero}", has={"/Document", "/H1"})


def test_a_pdf_template_without_title_or_language_is_refused(tmp_path, settings):
    (tmp_path / "sans_titre.html").write_text('<!DOCTYPE html><html lang="fr"><head><title> </title></head><body>x</body></html>')
    (tmp_path / "sans_langue.html").write_text("<!DOCTYPE html><html><head><title>T</title></head><body>x</body></html>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    for name in ("sans_titre.html", "sans_langue.html"):
        with pytest.raises(ValueError, match="lang"):
            render_pdf(name, {})
