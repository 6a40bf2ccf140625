"""End to end in Chromium, with the real Celery worker (through Redis) and the real SMTP sink:
every e-mail below left the outbox through the worker and arrived over SMTP. axe-core runs on
each page of the way (tests/a11y/axe.py)."""

import re

import pytest
from django.urls import reverse

from listes.models import Decision, Etat, Teledossier
from procuration.models import Electeur, Procuration, Status, User
from tests.a11y.axe import assert_no_axe_violations as axe
from tests.e2e._helpers import PASSWORD, body, new_page, subject, totp_code, wait_for_mail
from tests.factories import ProcurationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARIE_EMAIL = "marie.fc@example.fr"  # the e-mail FranceConnect gives (tests/mandant/conftest.py)


def franceconnect_login(page, live_server, provider_url, sub, start=None, button="#franceconnect-login"):
    """Log in through the local provider; button="#franceidentite-login" for France Identité (its own server)."""
    start = start or reverse("mandant:home")
    page.goto(live_server.url + start)
    assert "/mandant/connexion/" in page.url
    axe(page, "mandant: connexion")
    page.click(button)
    if button == "#franceconnect-login":
        page.wait_for_url(re.compile(re.escape(provider_url) + "/.*"))
    else:
        page.wait_for_url(lambda url: not url.startswith(live_server.url))
    page.get_by_role("button", name=sub).click()
    page.wait_for_url(live_server.url + start)


def staff_login(page, live_server, path, user):
    page.goto(live_server.url + path)
    axe(page, f"{path}: connexion")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    assert page.locator("h1").inner_text() == "Double authentification"
    axe(page, "double authentification")
    page.get_by_label("Code à usage unique").fill(totp_code(user.totp_secret))
    page.get_by_role("button", name="Valider le code").click()
    page.wait_for_url(re.compile(".*" + re.escape(path) + "$"))


def test_procuration_from_franceconnect_to_mairie_with_worker_and_smtp(
    live_server, page, browser, oidc_provider, mandant_electeur, mandataire, scrutin, policier, agent_mairie,
    celery_worker, smtp_sink,
):
    # (home, accessibility statement and login pages of other portals: tests/a11y/test_pages.py)
    # 1. The mandant: FranceConnect through the local provider, then the demande in three steps.
    franceconnect_login(page, live_server, oidc_provider, "fc-marie")
    assert page.locator("h1").inner_text() == "Mes procurations"
    axe(page, "mes procurations (vide)")
    page.click("#nouvelle-demande")
    page.wait_for_url(re.compile(r".*/demande/validite/$"))
    axe(page, "demande: validité")
    page.select_option("#id_scrutin", str(scrutin.pk))
    page.click("label[for=id_tour1]")
    page.click("label[for=id_tour2]")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(re.compile(r".*/demande/mandataire/$"))
    axe(page, "demande: mandataire")
    page.get_by_role("button", name="Continuer").click()  # nothing typed: the errors
    assert page.locator("[role=alert]").count() >= 1
    axe(page, "demande: mandataire (erreurs)")
    page.fill("#id_nne", mandataire.nne)
    page.fill("#id_date_naissance_nne", "1975-02-03")
    page.locator("#live-checks-ok").wait_for(timeout=10_000)
    axe(page, "demande: mandataire (contrôle en direct affiché)")
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(re.compile(r".*/demande/recapitulatif/$"))
    axe(page, "demande: récapitulatif")
    page.click("label[for=id_attestation]")
    page.get_by_role("button", name="Confirmer la demande").click()
    page.wait_for_url(re.compile(r".*/procurations/\d+/confirmation/$"))
    axe(page, "demande: confirmation")
    reference = page.locator("#reference").inner_text().strip()
    p = Procuration.objects.get(reference=reference)

    messages = wait_for_mail(smtp_sink, 1)
    assert messages[0]["To"] == MARIE_EMAIL
    assert subject(messages[0]) == f"Votre demande de procuration : référence {reference}"
    assert reference in body(messages[0])

    # 2. The officer at the counter: password + TOTP, reference, identity, validation.
    officer = new_page(browser, live_server)
    staff_login(officer, live_server, reverse("police:home"), policier)
    assert officer.locator("h1").inner_text() == "Guichet de validation des procurations"
    axe(officer, "police: guichet")
    officer.get_by_label("Référence d'enregistrement").fill("ZZZZZZ")
    officer.get_by_role("button", name="Rechercher la demande").click()
    assert officer.locator("h1").inner_text() == "Guichet de validation des procurations"
    axe(officer, "police: guichet (référence inconnue)")
    officer.get_by_label("Référence d'enregistrement").fill(reference.lower())
    officer.get_by_role("button", name="Rechercher la demande").click()
    assert officer.locator("h1").inner_text() == f"Demande de procuration {reference}"
    axe(officer, "police: demande")
    form = officer.locator("#form-valider")
    form.get_by_label("Pièce d'identité présentée").select_option("passeport")
    form.get_by_label("Fin du numéro de la pièce").fill("45ab")
    form.get_by_role("button", name="Valider la procuration").click()
    assert f"Procuration {reference} validée" in officer.locator("[role=status]").inner_text()
    axe(officer, "police: après validation")

    messages = wait_for_mail(smtp_sink, 2)
    validated = messages[1]
    assert validated["To"] == MARIE_EMAIL
    assert subject(validated) == f"Procuration {reference} : identité vérifiée"
    assert "MARTIN Julie, Officier de police judiciaire (Commissariat central)" in body(validated)

    # 3. The mairie agent: password + TOTP, queue, detail, validation.
    agent = new_page(browser, live_server)
    staff_login(agent, live_server, reverse("mairie:queue"), agent_mairie)
    assert agent.locator("h1").inner_text() == "File d'attente des procurations"
    axe(agent, "mairie: file d'attente")
    agent.locator(f'tr[data-reference="{reference}"]').get_by_role("link", name=reference).click()
    assert agent.locator("h1").inner_text() == f"Procuration {reference}"
    axe(agent, "mairie: détail")
    agent.get_by_role("button", name="Valider la procuration", exact=True).click()
    assert agent.locator("#status").inner_text() == "Validée par la mairie"
    axe(agent, "mairie: après validation")

    messages = wait_for_mail(smtp_sink, 3)
    decision = messages[2]
    assert decision["To"] == MARIE_EMAIL
    assert subject(decision) == f"Procuration {reference} enregistrée par la mairie"

    # 4. The mandant sees it in Mes procurations and on the detail page.
    page.goto(live_server.url + reverse("mandant:home"))
    row = page.locator("#procurations-donnees tr", has_text=reference)
    assert "Validée par la mairie" in row.text_content()
    axe(page, "mes procurations (validée)")
    row.get_by_role("link").click()
    assert "Validée par la mairie" in page.locator("#status").text_content()
    assert "MARTIN Julie" in page.locator("#autorite").inner_text()
    axe(page, "détail de la procuration")
    p.refresh_from_db()
    assert (p.status, p.autorite_by_id, p.mairie_by_id) == (Status.VALIDEE_MAIRIE, policier.pk, agent_mairie.pk)
    assert len(smtp_sink.messages) == 3
    officer.context.close()
    agent.context.close()


def test_resiliation_by_the_mandant_with_worker_and_smtp(
    live_server, page, oidc_provider, commune, mandant_electeur, mandataire, scrutin, celery_worker, smtp_sink,
):
    """L.75 fully online: logged in with France Identité (identity certified), it takes effect at once."""
    franceconnect_login(page, live_server, oidc_provider, "fc-marie", button="#franceidentite-login")
    # A procuration already established for the user FranceConnect just created.
    p = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, mandataire=mandataire, commune=commune,
                           scrutin=scrutin, email_contact=MARIE_EMAIL,
                           mandant_user=User.objects.get(socialaccount__uid="fc-marie"))
    page.reload()
    row = page.locator("#procurations-donnees tr", has_text=p.reference)
    assert "Validée par la mairie" in row.text_content()
    row.get_by_role("link").click()
    page.get_by_role("link", name="Résilier cette procuration").click()
    assert page.locator("h1").inner_text() == f"Résilier la procuration {p.reference}"
    axe(page, "résiliation")
    page.get_by_role("button", name="Confirmer la résiliation").click()
    page.wait_for_url(re.compile(rf".*/procurations/{p.pk}/$"))
    assert "Résiliée" in page.locator("#status").text_content()
    axe(page, "détail après résiliation")

    messages = {m["To"]: m for m in wait_for_mail(smtp_sink, 2)}  # the mandant and the mairie
    assert subject(messages[MARIE_EMAIL]) == f"Procuration {p.reference} résiliée"
    assert subject(messages[commune.email_service]) == f"Procuration {p.reference} résiliée par le mandant"
    p.refresh_from_db()
    assert p.status == Status.RESILIEE


def test_ile_from_filing_to_new_elector_with_worker_and_smtp(
    live_server, page, browser, oidc_provider, commune, scrutin, agent_listes, celery_worker, smtp_sink, tmp_path,
):
    from tests.listes.conftest import file_ile_in_browser

    # The usager (not on any list) logs in with FranceConnect and files an ILE.
    franceconnect_login(page, live_server, oidc_provider, "fc-inconnu", start=reverse("listes:usager_home"))
    axe(page, "listes: espace usager")
    page.get_by_role("link", name="S'inscrire sur les listes électorales").first.click()
    assert page.locator("h1").inner_text() == "Demande d'inscription sur les listes électorales"
    axe(page, "listes: formulaire ILE")
    numero = file_ile_in_browser(page, commune, tmp_path, lieu_naissance="Paris")
    axe(page, "listes: dossier usager")
    messages = wait_for_mail(smtp_sink, 2)
    assert {m["To"] for m in messages} == {"jules.nemo@example.fr", commune.email_service}

    # The guichet de suivi: password + TOTP, list, detail, reçu, accepté.
    agent = new_page(browser, live_server)
    staff_login(agent, live_server, reverse("listes:home"), agent_listes)
    assert agent.locator("h1").inner_text() == f"Guichet de suivi — {commune.nom}"
    axe(agent, "guichet: liste")
    agent.get_by_role("link", name=numero).click()
    assert agent.locator("#numero").inner_text() == numero
    axe(agent, "guichet: détail")
    agent.locator("#id_recevoir-comment").fill("Votre dossier est en cours d'examen.")
    agent.get_by_role("button", name="Dossier reçu").click()
    assert "Dossier reçu par le service traitant" in agent.locator("[role=status]").inner_text()
    axe(agent, "guichet: dossier reçu")
    agent.locator("#id_accepter-comment").fill("Votre inscription est enregistrée. Bienvenue à Almayrac !")
    agent.get_by_role("button", name="Accepter l'inscription").click()
    assert "Inscription acceptée" in agent.locator("[role=status]").inner_text()
    axe(agent, "guichet: inscription acceptée")

    d = Teledossier.objects.get(numero=numero)
    assert (d.etat, d.decision) == (Etat.CLOS, Decision.ACCEPTEE)
    nne = d.electeur.nne
    # The mairie sees the new elector on the commune's list.
    agent.get_by_role("link", name="Liste électorale").click()
    agent.get_by_label("Rechercher un électeur").fill("Nemo")
    agent.get_by_role("button", name="Rechercher").click()
    assert any(nne in row and "Jules" in row for row in agent.locator("tbody tr").all_inner_texts())
    axe(agent, "guichet: liste électorale")
    assert Electeur.objects.get(nne=nne).commune == commune

    # The usager sees the state and the comments, and got the e-mails through the worker.
    page.reload()
    assert page.locator("#etat").inner_text() == "Dossier clos"
    comments = page.locator("#comments").inner_text()
    assert "Votre dossier est en cours d'examen." in comments
    assert "Votre inscription est enregistrée. Bienvenue à Almayrac !" in comments
    axe(page, "listes: dossier usager (clos)")
    to_usager = [subject(m) for m in wait_for_mail(smtp_sink, 4) if m["To"] == "jules.nemo@example.fr"]
    assert f"Télédossier {numero} : Dossier reçu par le service traitant" in to_usager
    assert any(s.startswith(f"Télédossier {numero} : ") and "accept" in s.lower() for s in to_usager), to_usager
    agent.context.close()
