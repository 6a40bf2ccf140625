"""Chromium: an ILE from filing by the usager to acceptance by the mairie; the usager sees the
comment and the mairie sees the new elector on the commune's list."""

import os

import pytest
from django.conf import settings
from django.urls import reverse

from listes.models import Decision, Teledossier
from procuration.models import Electeur
from tests.factories import totp_code
from tests.listes.conftest import file_ile_in_browser

SHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ile_from_filing_to_acceptance(live_server, page, browser, client, mandant_user, agent_listes, password,
                                       commune, scrutin, mailoutbox, tmp_path):
    # The usager comes back from FranceConnect: reuse a Django session in Chromium.
    client.force_login(mandant_user)
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    page.goto(live_server.url + reverse("listes:usager_home"))
    page.get_by_role("link", name="S'inscrire sur les listes électorales").first.click()
    assert page.locator("h1").inner_text() == "Demande d'inscription sur les listes électorales"
    numero = file_ile_in_browser(page, commune, tmp_path, lieu_naissance="Albi")
    page.screenshot(path=os.path.join(SHOTS, "listes-usager-depot.png"), full_page=True)
    assert {m.to[0] for m in mailoutbox} == {"marie.dupont@example.fr", commune.email_service}

    # The mairie agent logs in for real (password, then TOTP).
    agent_context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    agent = agent_context.new_page()
    agent.goto(live_server.url + reverse("listes:home"))
    agent.get_by_label("Identifiant").fill(agent_listes.username)
    agent.get_by_label("Mot de passe").fill(password)
    agent.get_by_role("button", name="Se connecter").click()
    assert agent.locator("h1").inner_text() == "Double authentification"
    agent.get_by_label("Code à usage unique").fill(totp_code(agent_listes.totp_secret))
    agent.get_by_role("button", name="Valider le code").click()
    assert agent.locator("h1").inner_text() == f"Guichet de suivi — {commune.nom}"

    agent.get_by_role("link", name=numero).click()
    assert agent.locator("#numero").inner_text() == numero
    assert "marie.dupont@example.fr" in agent.content()
    with agent.expect_download() as download:
        agent.get_by_role("link", name="Télécharger les éléments du dossier").click()
    assert download.value.suggested_filename == f"teledossier_{numero}.zip"

    agent.locator("#id_recevoir-comment").fill("Votre dossier est en cours d'examen.")
    agent.get_by_role("button", name="Dossier reçu").click()
    assert "Dossier reçu par le service traitant" in agent.locator("[role=status]").inner_text()
    agent.locator("#id_accepter-comment").fill("Votre inscription est enregistrée. Bienvenue à Almayrac !")
    agent.get_by_role("button", name="Accepter l'inscription").click()
    assert "Inscription acceptée" in agent.locator("[role=status]").inner_text()
    agent.screenshot(path=os.path.join(SHOTS, "listes-guichet-decision.png"), full_page=True)

    d = Teledossier.objects.get(numero=numero)
    assert d.decision == Decision.ACCEPTEE
    nne = d.electeur.nne
    # The mairie sees the new elector on the commune's list.
    agent.get_by_role("link", name="Liste électorale").click()
    agent.get_by_label("Rechercher un électeur").fill("Dupont")
    agent.get_by_role("button", name="Rechercher").click()
    rows = agent.locator("tbody tr").all_inner_texts()
    assert any(nne in row and "Marie Claire" in row for row in rows)
    assert Electeur.objects.get(nne=nne).commune == commune

    # The usager sees the new state, the comments and the NNE.
    page.reload()
    assert page.locator("#etat").inner_text() == "Dossier clos"
    comments = page.locator("#comments").inner_text()
    assert "Votre dossier est en cours d'examen." in comments
    assert "Votre inscription est enregistrée. Bienvenue à Almayrac !" in comments
    assert nne in page.content()
    page.screenshot(path=os.path.join(SHOTS, "listes-usager-acceptee.png"), full_page=True)
    agent_context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ile_form_shows_the_eu_citizens_fields_only_to_an_eu_citizen(live_server, page, client, mandant_user,
                                                                     commune, scrutin):
    """listes/static/listes/ile.js: a French national does not see the member state, the listes
    complémentaires nor the four declarations; « D'un autre État membre » shows them, a French
    national again hides them. Without the script they are all in the page (the server's HTML)."""
    client.force_login(mandant_user)
    page.context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])
    page.goto(live_server.url + reverse("listes:usager_ile_new"))
    ue_fields = ["#id_etat_membre", "#id_complementaires_0", "#id_complementaires_1", "#id_declaration_nationalite",
                 "#id_declaration_adresse", "#id_declaration_droit_de_vote", "#id_declaration_vote_en_france"]
    always = ["#id_motif_rattachement_0", "#id_adresse", "#id_lieu_naissance"]

    def visible(selectors):
        return [page.locator(s).is_visible() for s in selectors]

    assert page.locator("#id_nationalite_0").is_checked()  # Française, the form's initial choice
    assert visible(ue_fields) == [False] * len(ue_fields)
    assert visible(always) == [True] * len(always)
    page.locator("label[for=id_nationalite_1]").click()  # D'un autre État membre de l'Union européenne
    assert visible(ue_fields) == [True] * len(ue_fields)
    page.locator("label[for=id_nationalite_2]").click()  # Autre nationalité
    assert visible(ue_fields) == [False] * len(ue_fields)
    page.locator("label[for=id_nationalite_1]").click()
    page.locator("#id_etat_membre").select_option("IT")
    page.locator("label[for=id_complementaires_0]").click()
    assert page.locator("#id_complementaires_0").is_checked()
    page.locator("label[for=id_nationalite_0]").click()
    assert visible(ue_fields) == [False] * len(ue_fields)
