"""The récépissé PDF (WeasyPrint), checked by its text with pdftotext."""

import subprocess

from django.utils import timezone

from procuration.documents import recepisse_pdf
from tests.factories import ElecteurFactory, ProcurationFactory, UserFactory


def pdf_text(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60)
    return result.stdout.decode()


def test_recepisse_gives_reference_names_and_officer(commune):
    officer = UserFactory(username="opj-p", policier=True, first_name="Julie", last_name="Martin", qualite="OPJ")
    mandant = ElecteurFactory(commune=commune, nom="Dupont", prenoms="Marie Claire")
    mandataire = ElecteurFactory(commune=commune, nom="Lambert", prenoms="Paul", nne="123456789")
    p = ProcurationFactory(mandant=mandant, mandataire=mandataire)
    p.soumettre()
    p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="9876")

    data = recepisse_pdf(p)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Récépissé de procuration de vote" in text
    assert p.reference in text
    assert "DUPONT Marie Claire" in text
    assert "LAMBERT Paul" in text
    assert "123456789" in text
    assert "MARTIN Julie, Officier de police judiciaire" in text
    assert timezone.localtime(p.autorite_at).strftime("%d/%m/%Y") in text
    assert "Validée par l'autorité" in text
    assert commune.nom in text
