import html
import re

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from procuration.models import AuditLog, Role, User

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def temporary_password(response) -> str:
    return re.search(r'id="temporary-password">([^<]+)<', response.content.decode()).group(1)


def test_commune_admin_creates_edits_disables_and_resets_an_agent(client, commune_admin, commune):
    client.force_login(commune_admin)
    r = client.post(reverse("mairie:agent_create"), {
        "username": "c.leroy", "first_name": "Camille", "last_name": "Leroy", "email": "C.Leroy@Almayrac.fr",
    })
    assert r.status_code == 200
    password = temporary_password(r)
    agent = User.objects.get(username="c.leroy")
    assert (agent.role, agent.commune, agent.is_commune_admin, agent.email) == (
        Role.AGENT_MAIRIE, commune, False, "c.leroy@almayrac.fr")
    assert agent.check_password(password)
    assert AuditLog.objects.filter(action="mairie.agent_create", object_id=str(agent.pk), actor=commune_admin).exists()

    # The new agent logs in with the temporary password and must set up TOTP before anything else.
    agent_client = client_class_login(agent, password)
    r = agent_client.get(reverse("mairie:queue"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp"))

    r = client.post(reverse("mairie:agent_edit", args=[agent.pk]), {
        "username": "ignored", "first_name": "Camille", "last_name": "Leroy-Martin", "email": "camille@almayrac.fr",
    })
    assert r.status_code == 302
    agent.refresh_from_db()
    assert (agent.username, agent.last_name, agent.email) == ("c.leroy", "Leroy-Martin", "camille@almayrac.fr")

    client.post(reverse("mairie:agent_toggle", args=[agent.pk]))
    agent.refresh_from_db()
    assert not agent.is_active
    assert "Désactivé" in text(client.get(reverse("mairie:agents")))
    assert not client_class_login(agent, password, expect=False)

    client.post(reverse("mairie:agent_toggle", args=[agent.pk]))
    agent.refresh_from_db()
    assert agent.is_active
    # Reset: a new temporary password, the old authenticator is removed.
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(agent, generate_totp_secret())
    r = client.post(reverse("mairie:agent_reset", args=[agent.pk]))
    new_password = temporary_password(r)
    agent.refresh_from_db()
    assert agent.check_password(new_password) and not agent.check_password(password)
    assert not Authenticator.objects.filter(user=agent).exists()


def client_class_login(user, password, expect=True):
    from django.test import Client

    c = Client()
    ok = c.login(username=user.username, password=password)
    assert ok == expect
    return c if ok else None


@pytest.mark.parametrize("data, error", [
    ({"username": "agent-a", "first_name": "A", "last_name": "B", "email": "new@example.fr"}, "Cet identifiant est déjà utilisé."),
    ({"username": "jean dupont", "first_name": "A", "last_name": "B", "email": "new@example.fr"},
     "Utilisez uniquement des lettres sans accent"),
    ({"username": "nouveau", "first_name": "A", "last_name": "B", "email": "agent-a@example.fr"},
     "Un autre compte d'agent utilise déjà cette adresse."),
    ({"username": "nouveau", "first_name": "", "last_name": "B", "email": "pas-une-adresse"}, "Ce champ est obligatoire."),
])
def test_agent_creation_bad_input_creates_nothing(client, commune_admin, agent_mairie, data, error):
    client.force_login(commune_admin)
    before = User.objects.count()
    r = client.post(reverse("mairie:agent_create"), data)
    assert r.status_code == 200
    assert error in text(r)
    assert User.objects.count() == before


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
