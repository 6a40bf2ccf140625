"""« Télécharger les éléments du dossier »: CERFA (PDF), pièces and XML (documented schema)."""

import io
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from tests.listes.conftest import rco_post_data
from tests.listes.xsd_check import Schema, SchemaError

XSD = settings.BASE_DIR / "listes" / "xml" / "teledossier.xsd"


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _zip(client, d):
    response = client.get(reverse("listes:dossier_zip", args=[d.numero]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"teledossier_{d.numero}.zip" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_ile_zip_contents(client, agent_listes, file_ile):
    d = file_ile()
    client.force_login(agent_listes)
    zf = _zip(client, d)
    assert sorted(zf.namelist()) == [
        "cerfa_12669-02_inscription.pdf", "donnees.xml", "pieces/1_identite.pdf", "pieces/2_attache.png",
    ]
    text = pdftotext(zf.read("cerfa_12669-02_inscription.pdf"))
    for expected in ("12669*02", "Demande d'inscription sur les listes électorales", "DUPONT", "Marie Claire",
                     "12/05/1980", "Albi", "3 rue des Lilas", "81190", d.numero, "Almayrac (81005)",
                     "☒ 1. J'ai mon domicile dans la commune"):
        assert expected in text, expected
    # The pièces are the bytes the usager sent.
    for name, piece in (("pieces/1_identite.pdf", d.pieces.get(kind="identite")),
                        ("pieces/2_attache.png", d.pieces.get(kind="attache"))):
        with piece.file.open("rb") as fh:
            assert zf.read(name) == fh.read()
    xml = zf.read("donnees.xml")
    root = ET.fromstring(xml)
    Schema(XSD).validate(root)
    ns = {"t": "urn:demarches-electorales:listes:teledossier:1"}
    assert root.findtext("t:numero", namespaces=ns) == d.numero
    assert root.findtext("t:etatCivil/t:nom", namespaces=ns) == "DUPONT"
    assert root.findtext("t:inscription/t:motifRattachement", namespaces=ns) == "domicile"
    assert [p.findtext("t:fichier", namespaces=ns) for p in root.findall("t:pieces/t:piece", ns)] == [
        "pieces/1_identite.pdf", "pieces/2_attache.png"]


def test_rco_zip_validates_too(client, agent_listes, jeune, commune):
    client.force_login(jeune)
    client.post(reverse("listes:usager_rco_new"), rco_post_data(commune))
    from listes.models import Teledossier

    d = Teledossier.objects.get()
    client.force_login(agent_listes)
    zf = _zip(client, d)
    assert sorted(zf.namelist()) == ["declaration_recensement.pdf", "donnees.xml", "pieces/1_identite.pdf",
                                     "pieces/2_livret.jpg"]
    Schema(XSD).validate(ET.fromstring(zf.read("donnees.xml")))
    assert "DURAND Sophie" in pdftotext(zf.read("declaration_recensement.pdf"))


def test_schema_checker_rejects_a_broken_document(client, agent_listes, file_ile):
    """The validator is not lenient: a missing element, a bad number or an extra element fail."""
    from listes.documents import teledossier_xml

    d = file_ile()
    ns = "{urn:demarches-electorales:listes:teledossier:1}"
    root = ET.fromstring(teledossier_xml(d))
    root.find(f"{ns}numero").text = "A-9-OOOOIIII"
    with pytest.raises(SchemaError, match="motif"):
        Schema(XSD).validate(root)
    root = ET.fromstring(teledossier_xml(d))
    root.remove(root.find(f"{ns}etatCivil"))
    with pytest.raises(SchemaError, match="etatCivil"):
        Schema(XSD).validate(root)
    root = ET.fromstring(teledossier_xml(d))
    ET.SubElement(root, f"{ns}intrus")
    with pytest.raises(SchemaError, match="inattendu"):
        Schema(XSD).validate(root)
