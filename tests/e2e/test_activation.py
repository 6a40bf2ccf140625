"""A staff account from creation to first use, in Chromium, with the real Celery worker and SMTP
sink: the admin creates the agent and never sees a password; the agent opens the e-mailed link,
chooses the password, logs in and enrols their own TOTP; the link then no longer works."""

import re
from urllib.parse import urlsplit

import pytest

from procuration.models import User
from tests.a11y.axe import assert_no_axe_violations as axe
from tests.e2e._helpers import body, new_page, subject, totp_code, wait_for_mail
from tests.e2e.test_flows import staff_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_new_agent_activates_the_account_and_enrols_totp(live_server, page, browser, commune_admin, celery_worker,
                                                         smtp_sink):
    staff_login(page, live_server, "/mairie/agents/", commune_admin)
    page.get_by_role("link", name="Créer un compte d'agent").click()
    page.fill("#id_first_name", "Camille")
    page.fill("#id_last_name", "Leroy")
    page.fill("#id_email", "camille.leroy@almayrac.example")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r".*/mairie/agents/$"))
    notice = page.locator(".fr-alert--success").inner_text()
    assert "lien d'activation est envoyé à camille.leroy@almayrac.example" in notice
    assert "mot de passe temporaire" not in page.content().lower()
    agent = User.objects.get(email="camille.leroy@almayrac.example")

    [mail] = [m for m in wait_for_mail(smtp_sink, 1) if "camille.leroy@almayrac.example" in m["To"]]
    assert "Activez votre compte" in subject(mail)
    text = body(mail)
    assert agent.username in text
    link = urlsplit(re.search(r"https?://\S+/activation/\S+/", text).group(0)).path

    someone = new_page(browser, live_server)
    someone.goto(link)
    axe(someone, "activation")
    someone.fill("#id_password1", "Camille-choisit-2026")
    someone.fill("#id_password2", "Camille-choisit-2026")
    someone.get_by_role("button", name="Enregistrer mon mot de passe").click()
    someone.wait_for_url(re.compile(r".*/mairie/connexion/\?next=/mairie/$"))
    someone.get_by_label("Identifiant").fill(agent.username)
    someone.get_by_label("Mot de passe").fill("Camille-choisit-2026")
    someone.get_by_role("button", name="Se connecter").click()
    # The door: the agent enrols their own authenticator before anything else.
    # allauth asks for the password once more before any change of authenticator.
    someone.wait_for_url(re.compile(r".*/reauthenticate/.*"))
    someone.get_by_label("Mot de passe").fill("Camille-choisit-2026")
    someone.get_by_role("button", name="Confirmer").click()
    someone.wait_for_url(re.compile(r".*/totp/activate/.*"))
    axe(someone, "activation de la double authentification")
    secret = someone.locator("#authenticator_secret").input_value()
    someone.fill("#id_code", totp_code(secret))
    someone.get_by_role("button", name="Activer").click()
    someone.goto(live_server.url + "/mairie/file/")
    assert urlsplit(someone.url).path == "/mairie/file/"

    # Used: the link answers a clear message and changes nothing.
    someone.goto(live_server.url + link)
    assert "n'est plus valable" in someone.locator("main").inner_text()
    agent.refresh_from_db()
    assert agent.check_password("Camille-choisit-2026")
