import os

import pytest
from django.urls import reverse

from procuration.models import InvalidationMotif, Status
from tests.factories import PASSWORD, ElecteurFactory, ProcurationFactory, totp_code


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_agent_logs_in_with_totp_validates_and_invalidates(live_server, page, agent_mairie, commune, mailoutbox):
    p1 = ProcurationFactory(validee_autorite=True, commune=commune, email_contact="valide@example.fr",
                            mandant=ElecteurFactory(commune=commune, nom="VALIDE"))
    p2 = ProcurationFactory(validee_autorite=True, commune=commune, email_contact="invalide@example.fr",
                            mandant=ElecteurFactory(commune=commune, nom="INVALIDE"))

    # Real login: identifiant, mot de passe, then the TOTP code.
    page.goto(live_server.url + reverse("mairie:queue"))
    page.fill("#id_login", agent_mairie.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.fill("#id_code", totp_code(agent_mairie.totp_secret))
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(f"**{reverse('mairie:queue')}")
    assert page.locator("h1").inner_text() == "File d'attente des procurations"
    page.screenshot(path=os.path.join(os.environ.get("SCREENSHOT_DIR", "/tmp"), "mairie-queue.png"), full_page=True)
    row = page.locator(f'tr[data-reference="{p1.reference}"]')
    assert "Tous les contrôles sont conformes" in row.inner_text()

    row.get_by_role("link", name=p1.reference).click()
    page.get_by_role("button", name="Valider la procuration", exact=True).click()
    assert page.locator("#status").inner_text() == "Validée par la mairie"
    assert "Le mandant en est informé par courriel." in page.content()

    page.goto(live_server.url + reverse("mairie:detail", args=[p2.pk]))
    # DSFR draws the radio on its label: click the label, as a person does.
    page.locator("label", has_text="Le mandataire détient déjà le nombre maximal de procurations").click()
    assert page.locator('input[name="motif"][value="plafond_atteint"]').is_checked()
    page.fill("#id_detail", "Il a déjà deux procurations pour ce scrutin.")
    page.get_by_role("button", name="Invalider la procuration", exact=True).click()
    assert page.locator("#status").inner_text().startswith("Invalidée par la mairie")
    timeline = page.locator("#timeline").inner_text()
    assert "Validée par l'autorité → Invalidée par la mairie" in timeline
    page.screenshot(path=os.path.join(os.environ.get("SCREENSHOT_DIR", "/tmp"), "mairie-detail.png"), full_page=True)

    p1.refresh_from_db()
    p2.refresh_from_db()
    assert p1.status == Status.VALIDEE_MAIRIE and p1.mairie_by_id == agent_mairie.pk
    assert p2.status == Status.INVALIDEE_MAIRIE and p2.invalidation_motif == InvalidationMotif.PLAFOND_ATTEINT
    mails = {m.to[0]: m for m in mailoutbox}
    assert mails["valide@example.fr"].subject == f"Procuration {p1.reference} enregistrée par la mairie"
    invalid = mails["invalide@example.fr"]
    assert invalid.subject == f"Procuration {p2.reference} : invalidée par la mairie"
    assert "Motif : Le mandataire détient déjà le nombre maximal de procurations." in invalid.body
    assert "Précision : Il a déjà deux procurations pour ce scrutin." in invalid.body
