"""RCO: the attestation de recensement (stamp and signature of the commune) lands in the espace."""

import pytest
from django.urls import reverse

from listes.models import Document, Etat, Teledossier
from procuration.exceptions import DomainError
from tests.listes.conftest import png_bytes, rco_post_data, upload
from tests.listes.test_zip import pdftotext


def _images_in_pdf(data: bytes) -> int:
    import subprocess

    out = subprocess.run(["pdfimages", "-list", "-", ], input=data, capture_output=True).stdout.decode()
    return max(0, len(out.strip().splitlines()) - 2)


def test_rco_from_filing_to_attestation_in_the_espace(client, jeune, commune, listes_admin, agent_listes, mailoutbox,
                                                      django_capture_on_commit_callbacks, tmp_path):
    # The commune admin configures stamp and signature.
    client.force_login(listes_admin)
    response = client.post(reverse("listes:config"), {
        "signataire": "Jeanne Maire", "qualite_signataire": "Le maire",
        "tampon": upload("tampon.png", png_bytes((0, 0, 145)), "image/png"),
        "signature": upload("signature.png", png_bytes((10, 10, 10)), "image/png"),
    })
    assert response.status_code == 302
    assert client.get(reverse("listes:config_image", args=["tampon"])).status_code == 200

    # The young usager files.
    client.force_login(jeune)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:usager_rco_new"), rco_post_data(commune))
    d = Teledossier.objects.get()

    # The agent generates the attestation, then closes with a comment.
    client.force_login(agent_listes)
    client.post(reverse("listes:attestation_rco", args=[d.numero]))
    doc = d.documents.get()
    assert doc.kind == Document.Kind.ATTESTATION_RECENSEMENT
    # Not modifiable: a second generation is refused.
    html = client.post(reverse("listes:attestation_rco", args=[d.numero]), follow=True).content.decode()
    assert "déjà été délivrée" in html and d.documents.count() == 1
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("listes:transition", args=[d.numero, "clore"]),
                    {"clore-comment": "Votre attestation de recensement est disponible."})
    d.refresh_from_db()
    assert d.etat == Etat.CLOS
    assert "Votre attestation de recensement est disponible." in mailoutbox[0].body
    assert "Des documents vous attendent" in mailoutbox[0].body

    # The usager sees the comment and downloads the attestation from the espace.
    client.force_login(jeune)
    html = client.get(reverse("listes:usager_dossier", args=[d.numero])).content.decode()
    assert "Votre attestation de recensement est disponible." in html and "Attestation de recensement" in html
    response = client.get(reverse("listes:usager_document", args=[d.numero, doc.pk]))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    text = pdftotext(pdf)
    for expected in ("Attestation de recensement", "MAIRIE D'ALMAYRAC", "MARTIN", "Lucas Pierre",
                     jeune.birthdate.strftime("%d/%m/%Y"), "Albi (Tarn (81))", "5 chemin du Moulin, 81190 Almayrac",
                     "Jeanne Maire", "Le maire", d.numero):
        assert expected in text, expected
    assert _images_in_pdf(pdf) == 2  # stamp and signature


def test_attestation_only_for_rco(agent_listes, file_ile):
    from listes import documents

    d = file_ile()
    with pytest.raises(DomainError, match="recensement citoyen"):
        documents.attestation_recensement(d, by=agent_listes)


def test_config_is_for_the_admin_only_and_checks_images(client, agent_listes, listes_admin):
    client.force_login(agent_listes)
    assert client.get(reverse("listes:config")).status_code == 403
    client.force_login(listes_admin)
    html = client.post(reverse("listes:config"), {
        "signataire": "X", "qualite_signataire": "Le maire",
        "tampon": upload("tampon.png", b"GIF89a not a png", "image/png"),
    }).content.decode()
    assert "doit être un PNG ou un JPEG" in html
