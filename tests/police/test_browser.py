"""The counter in Chromium: real login (password then TOTP), reference, identity, validation, e-mail."""

import os

import pytest
from django.urls import reverse

from procuration.models import Status
from tests.factories import ElecteurFactory, ProcurationFactory, totp_code


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_counter_flow_from_login_to_validation(live_server, page, policier, password, commune, mailoutbox):
    mandant = ElecteurFactory(commune=commune, nom="DUPONT", prenoms="Marie Claire", lieu_naissance="Albi")
    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=mandant, email_contact="marie.dupont@example.fr")

    page.goto(live_server.url + reverse("police:home"))
    # Anonymous: sent to the portal's login page.
    assert page.locator("h1").inner_text() == "Connexion — Procurations — Espace police et gendarmerie"
    page.get_by_label("Identifiant").fill(policier.username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    # allauth MFA asks the TOTP code after the password.
    assert page.locator("h1").inner_text() == "Double authentification"
    page.get_by_label("Code à usage unique").fill(totp_code(policier.totp_secret))
    page.get_by_role("button", name="Valider le code").click()

    assert page.locator("h1").inner_text() == "Guichet de validation des procurations"
    page.get_by_label("Référence d'enregistrement").fill("  k7m 2qx ")
    page.get_by_role("button", name="Rechercher la demande").click()

    assert page.locator("h1").inner_text() == "Demande de procuration K7M2QX"
    identity = page.locator("#mandant").inner_text()
    for expected in ("DUPONT", "Marie Claire", "Féminin", "15/01/1980", "Albi"):
        assert expected in identity
    assert p.mandataire.nom.upper() in page.locator("#portee").inner_text()
    page.screenshot(path=os.path.join(os.environ.get("SCREENSHOT_DIR", "/tmp"), "police-guichet.png"), full_page=True)

    form = page.locator("#form-valider")
    form.get_by_label("Pièce d'identité présentée").select_option("passeport")
    form.get_by_label("Fin du numéro de la pièce").fill("45ab")
    form.get_by_role("button", name="Valider la procuration").click()

    assert "Procuration K7M2QX validée" in page.locator("[role=status]").inner_text()
    # The confirmation: the récépissé to hand to the mandant, and a page that prints clean.
    assert page.locator("h1").inner_text() == "Procuration K7M2QX validée"
    from tests.a11y.axe import assert_no_axe_violations

    assert_no_axe_violations(page, "confirmation")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le récépissé (PDF)").click()
    assert download.value.suggested_filename == "recepisse-K7M2QX.pdf"
    page.emulate_media(media="print")
    assert page.locator("header.fr-header").is_hidden() and page.locator("#fr-navigation").is_hidden()
    assert page.locator("#recepisse").is_hidden()
    assert page.locator("#reference").is_visible() and "DUPONT" in page.locator("#acte-identites").inner_text()
    assert page.locator("#reference").evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    page.emulate_media(media="screen")
    assert page.locator("header.fr-header").is_visible()
    p.refresh_from_db()
    assert (p.status, p.autorite_by_id, p.piece_numero_fin) == (Status.VALIDEE_AUTORITE, policier.pk, "45AB")
    mails = [m for m in mailoutbox if m.to == ["marie.dupont@example.fr"]]
    assert len(mails) == 1
    assert "K7M2QX" in mails[0].subject
    assert "MARTIN Julie, Officier de police judiciaire (Commissariat central)" in mails[0].body
