import html

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from procuration.models import AuditLog, Role, User
from tests.accounts import activation_path, sent_to

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_commune_admin_creates_edits_disables_and_resets_an_agent(client, commune_admin, commune, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(commune_admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mairie:agent_create"), {
            "first_name": "Camille", "last_name": "Leroy", "email": "C.Leroy@Almayrac.fr",
        }, follow=True)
    assert r.status_code == 200
    agent = User.objects.get(last_name="Leroy")
    assert (agent.role, agent.commune, agent.is_commune_admin, agent.email) == (
        Role.AGENT_MAIRIE, commune, False, "c.leroy@almayrac.fr")
    assert agent.username.startswith("camille.leroy.") and agent.username in text(r)
    # No password exists yet, and the admin never sees one: the agent gets a link by e-mail.
    assert not agent.has_usable_password()
    assert "Mot de passe temporaire" not in text(r) and "lien d'activation est envoyé" in text(r)
    assert AuditLog.objects.filter(action="mairie.agent_create", object_id=str(agent.pk), actor=commune_admin).exists()
    [mail] = sent_to(mailoutbox, "c.leroy@almayrac.fr")

    # The agent chooses a password through the link, logs in, must set up TOTP before anything else.
    password = "Camille-choisit-2026"
    assert Client().post(activation_path(mail), {"password1": password, "password2": password}).status_code == 302
    agent_client = client_class_login(agent, password)
    r = agent_client.get(reverse("mairie:queue"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp"))

    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mairie:agent_edit", args=[agent.pk]), {
            "username": "ignored", "first_name": "Camille", "last_name": "Leroy-Martin", "email": "camille@almayrac.fr",
        })
    assert r.status_code == 302
    # The previous address hears that activation links now go elsewhere.
    notice = sent_to(mailoutbox, "c.leroy@almayrac.fr")[-1]
    assert "camille@almayrac.fr" in notice.body and "remplacée" in notice.subject + notice.body
    username = agent.username
    agent.refresh_from_db()
    assert (agent.username, agent.last_name, agent.email) == (username, "Leroy-Martin", "camille@almayrac.fr")

    client.post(reverse("mairie:agent_toggle", args=[agent.pk]))
    agent.refresh_from_db()
    assert not agent.is_active
    assert "Désactivé" in text(client.get(reverse("mairie:agents")))
    assert not client_class_login(agent, password, expect=False)

    client.post(reverse("mairie:agent_toggle", args=[agent.pk]))
    agent.refresh_from_db()
    assert agent.is_active
    # Reset: no password and no authenticator any more, a new link to the agent, nothing shown to the admin.
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(agent, generate_totp_secret())
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("mairie:agent_reset", args=[agent.pk]), follow=True)
    assert "nouveau lien d'activation est envoyé à camille@almayrac.fr" in text(r)
    agent.refresh_from_db()
    assert not agent.has_usable_password() and not agent.check_password(password)
    assert not Authenticator.objects.filter(user=agent).exists()
    assert AuditLog.objects.filter(action="mairie.agent_reset", object_id=str(agent.pk)).exists()
    [mail] = sent_to(mailoutbox, "camille@almayrac.fr")
    new_password = "Camille-recommence-2026"
    assert Client().post(activation_path(mail), {"password1": new_password, "password2": new_password}).status_code == 302
    agent.refresh_from_db()
    assert agent.check_password(new_password)


def client_class_login(user, password, expect=True):
    from django.test import Client

    c = Client()
    ok = c.login(username=user.username, password=password)
    assert ok == expect
    return c if ok else None


@pytest.mark.parametrize("data, error", [
    ({"first_name": "A", "last_name": "B", "email": "agent-a@example.fr"},
     "Un autre agent de la commune utilise déjà cette adresse."),
    ({"first_name": "", "last_name": "B", "email": "pas-une-adresse"}, "Ce champ est obligatoire."),
])
def test_agent_creation_bad_input_creates_nothing(client, commune_admin, agent_mairie, data, error):
    client.force_login(commune_admin)
    before = User.objects.count()
    r = client.post(reverse("mairie:agent_create"), data)
    assert r.status_code == 200
    assert error in text(r)
    assert User.objects.count() == before


def test_agent_creation_reveals_no_account_of_another_commune(client, commune_admin, agent_mairie_b):
    """Neither the identifiant (generated) nor the e-mail check tells the admin that an account
    exists in another commune: the same name and address as another commune's agent are accepted."""
    client.force_login(commune_admin)
    r = client.post(reverse("mairie:agent_create"), {
        "first_name": agent_mairie_b.first_name, "last_name": agent_mairie_b.last_name, "email": agent_mairie_b.email,
    })
    assert r.status_code == 302
    created = User.objects.filter(commune=commune_admin.commune, email=agent_mairie_b.email).get()
    assert created.username != agent_mairie_b.username
    assert f'data-username="{agent_mairie_b.username}"' not in text(client.get(reverse("mairie:agents")))
    # The form has no identifiant field to probe with.
    assert 'name="username"' not in text(client.get(reverse("mairie:agent_create")))


def test_admin_cannot_manage_itself_nor_other_communes_agents(client, commune_admin, agent_mairie_b):
    client.force_login(commune_admin)
    assert client.post(reverse("mairie:agent_toggle", args=[commune_admin.pk])).status_code == 403
    assert client.get(reverse("mairie:agent_edit", args=[agent_mairie_b.pk])).status_code == 404
    commune_admin.refresh_from_db()
    assert commune_admin.is_active
    listing = text(client.get(reverse("mairie:agents")))
    assert agent_mairie_b.username not in listing


def test_commune_admin_turns_automatic_validation_on(client, commune_admin, commune):
    client.force_login(commune_admin)
    r = client.post(reverse("mairie:parametres"), {"auto_validation": "on"}, follow=True)
    assert "Validation automatique activée." in text(r)
    commune.refresh_from_db()
    assert commune.auto_validation
    assert AuditLog.objects.filter(action="mairie.auto_validation", actor=commune_admin).exists()
    client.post(reverse("mairie:parametres"), {})
    commune.refresh_from_db()
    assert not commune.auto_validation
