import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ScrutinFactory, UserFactory


def pdf_bytes(text: str = "Justificatif", size: int | None = None) -> bytes:
    """A real PDF (WeasyPrint), optionally padded up to `size` bytes (trailing comment bytes)."""
    from weasyprint import HTML

    data = HTML(string=f"<p>{text}</p>").write_pdf()
    if size is not None:
        assert size >= len(data)
        data = data + b"\n%" + b"x" * (size - len(data) - 2)
    return data


def png_bytes(color=(0, 0, 145), size=(60, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def scrutin(db):
    """A scrutin far enough ahead for the online ILE to be open."""
    return ScrutinFactory(libelle="Municipales", date_tour1=datetime.date.today() + datetime.timedelta(days=120))


@pytest.fixture
def listes_admin(commune):
    return UserFactory(username="listes-admin", agent_listes=True, is_commune_admin=True, commune=commune)


@pytest.fixture
def agent_listes_b(other_commune):
    return UserFactory(username="listes-b", agent_listes=True, commune=other_commune)


@pytest.fixture
def jeune(db):
    """An usager of 16 years and one month (RCO window)."""
    today = datetime.date.today()
    birth = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    birth = birth.replace(year=birth.year - 16)
    return UserFactory(
        username="jeune", first_name="Lucas Pierre", last_name="Martin", birthdate=birth, gender="M",
        email="lucas.martin@example.fr",
    )


def ile_post_data(commune, **extra):
    data = {
        "commune": commune.pk,
        "nationalite": "FR",
        "motif_rattachement": "domicile",
        "nom_usage": "",
        "lieu_naissance": "Albi",
        "departement_naissance": "Tarn (81)",
        "adresse": "3 rue des Lilas",
        "code_postal": "81190",
        "ville": "Almayrac",
        "telephone": "",
        "piece_identite": upload("cni.pdf", pdf_bytes("Carte d'identité")),
        "piece_attache": upload("facture.png", png_bytes(), "image/png"),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


# The written declaration of a citizen of another EU member state, every statement ticked
# (listes.rules.ile_declarations says which are required).
DECLARATIONS_UE = {"declaration_nationalite": "on", "declaration_adresse": "on", "declaration_droit_de_vote": "on",
                   "declaration_vote_en_france": "on"}


def rco_post_data(commune, **extra):
    data = {
        "commune": commune.pk,
        "nationalite_francaise": "on",
        "lieu_naissance": "Albi",
        "departement_naissance": "Tarn (81)",
        "pere_nom": "Martin",
        "pere_prenoms": "Jean",
        "mere_nom": "Durand",
        "mere_prenoms": "Sophie",
        "adresse": "5 chemin du Moulin",
        "code_postal": "81190",
        "ville": "Almayrac",
        "telephone": "",
        "piece_identite": upload("passeport.pdf", pdf_bytes("Passeport")),
        "piece_livret": upload("livret.jpg", _jpeg(), "image/jpeg"),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def file_ile(client, mandant_user, commune, scrutin, django_capture_on_commit_callbacks):
    """File an ILE through the real view; returns the Teledossier."""
    from listes.models import Teledossier

    def _file(user=mandant_user, **extra):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("listes:usager_ile_new"), ile_post_data(commune, **extra))
        assert response.status_code == 302, response.content.decode()[:3000]
        return Teledossier.objects.get(numero=response["Location"].rstrip("/").split("/")[-1])

    return _file


def file_ile_in_browser(page, commune, tmp_path, lieu_naissance: str) -> str:
    """In Chromium, on the open ILE form: fill it (commune, motif, birthplace, address, an identity
    PDF and a proof of address) and send it. Returns the new dossier's number."""
    identite = tmp_path / "carte-identite.pdf"
    identite.write_bytes(pdf_bytes("Carte nationale d'identité"))
    domicile = tmp_path / "facture.png"
    domicile.write_bytes(png_bytes())
    page.locator("#id_commune").select_option(label=str(commune))
    page.locator("label[for=id_motif_rattachement_0]").click()  # DSFR: the label covers the radio
    assert page.locator("#id_motif_rattachement_0").is_checked()
    page.locator("#id_lieu_naissance").fill(lieu_naissance)
    page.locator("#id_adresse").fill("3 rue des Lilas")
    page.locator("#id_code_postal").fill("81190")
    page.locator("#id_ville").fill("Almayrac")
    page.locator("#id_piece_identite").set_input_files(str(identite))
    page.locator("#id_piece_attache").set_input_files(str(domicile))
    page.get_by_role("button", name="Transmettre ma demande").click()
    assert page.locator("h1").inner_text().startswith("Télédossier A-9-")
    assert page.locator("#etat").inner_text() == "Dossier transmis au service traitant"
    return page.locator("h1").inner_text().removeprefix("Télédossier ")
