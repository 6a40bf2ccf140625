"""End to end in Chromium: FranceConnect login through the real local OIDC provider (nonce
required), the demande in three steps with the live checks, the reference on screen and by
e-mail, then the status in Mes procurations."""

import os
import re

import pytest

from procuration.models import Procuration, Status

SHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")


@pytest.mark.browser
def test_franceconnect_login_and_demande_in_chromium(
    live_server, page, oidc_provider, mandant_electeur, scrutin, mandataire, mailoutbox
):
    page.goto(live_server.url + "/mandant/")
    assert "/mandant/connexion/" in page.url
    page.click("#franceconnect-login")
    # The local provider's authorization page: pick the predefined user.
    page.wait_for_url(re.compile(re.escape(oidc_provider) + "/.*"))
    assert "nonce=" in page.url
    page.get_by_role("button", name="fc-marie").click()
    page.wait_for_url(live_server.url + "/mandant/")
    assert page.locator("h1").inner_text() == "Mes procurations"
    assert "Almayrac" in page.locator("main").inner_text()

    page.click("#nouvelle-demande")
    page.wait_for_url(re.compile(r".*/demande/validite/$"))
    page.select_option("#id_scrutin", str(scrutin.pk))
    page.click("label[for=id_tour1]")
    page.click("label[for=id_tour2]")
    page.screenshot(path=os.path.join(SHOTS, "mandant-validite.png"), full_page=True)
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url(re.compile(r".*/demande/mandataire/$"))
    page.fill("#id_nne", "123456789")
    page.fill("#id_date_naissance_nne", "1975-02-03")
    # Live check while typing (static script loaded under the CSP nonce).
    page.locator("#live-checks-ok").wait_for(timeout=10_000)
    assert "Mandataire trouvé : Paul LAMBERT" in page.locator("#live-checks").inner_text()
    page.screenshot(path=os.path.join(SHOTS, "mandant-mandataire.png"), full_page=True)
    page.get_by_role("button", name="Continuer").click()

    page.wait_for_url(re.compile(r".*/demande/recapitulatif/$"))
    assert "Paul LAMBERT" in page.locator("#recap-mandataire").inner_text()
    page.click("label[for=id_attestation]")
    page.get_by_role("button", name="Confirmer la demande").click()

    page.wait_for_url(re.compile(r".*/procurations/\d+/confirmation/$"))
    reference = page.locator("#reference").inner_text().strip()
    page.screenshot(path=os.path.join(SHOTS, "mandant-confirmation.png"), full_page=True)
    p = Procuration.objects.get()
    assert reference == p.reference and len(reference) == 6
    assert "commissariat" in page.locator("#prochaine-etape").inner_text()
    assert len(mailoutbox) == 1
    assert reference in mailoutbox[0].subject and reference in mailoutbox[0].body
    assert mailoutbox[0].to == ["marie.fc@example.fr"]

    page.get_by_role("link", name="Mes procurations").first.click()
    row = page.locator("#procurations-donnees tr", has_text=reference)
    assert "En attente de validation" in row.text_content()
    row.get_by_role("link").click()
    assert "En attente de validation" in page.locator("#status").text_content()
    assert p.status == Status.EN_ATTENTE
