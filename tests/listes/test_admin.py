"""The administrateur of the commune creates the utilisateur accounts of the guichet."""

from django.urls import reverse

from procuration.models import AuditLog, Role, User


def test_admin_creates_an_utilisateur_who_can_log_in_and_must_set_up_totp(client, listes_admin, commune):
    client.force_login(listes_admin)
    response = client.post(reverse("listes:users"), {
        "username": "nouvel-agent", "first_name": "Paul", "last_name": "Bernard", "email": "paul@mairie.example",
        "password": "un-mot-de-passe-solide-2026",
    })
    assert response.status_code == 302
    agent = User.objects.get(username="nouvel-agent")
    assert agent.role == Role.AGENT_LISTES and agent.commune == commune and not agent.is_commune_admin
    assert AuditLog.objects.filter(action="listes.agent_create", actor=listes_admin).exists()
    client.logout()
    assert client.login(username="nouvel-agent", password="un-mot-de-passe-solide-2026")
    response = client.get(reverse("listes:home"))
    assert response.status_code == 302 and "totp" in response["Location"]


def test_weak_password_and_duplicate_username_refused(client, listes_admin, agent_listes):
    client.force_login(listes_admin)
    html = client.post(reverse("listes:users"), {
        "username": agent_listes.username, "first_name": "P", "last_name": "B", "email": "p@x.fr", "password": "123",
    }).content.decode()
    assert "Cet identifiant est déjà utilisé." in html
    assert User.objects.filter(role=Role.AGENT_LISTES).count() == 2


def test_plain_utilisateur_cannot_manage_accounts(client, agent_listes):
    client.force_login(agent_listes)
    assert client.get(reverse("listes:users")).status_code == 403
    assert client.post(reverse("listes:users"), {"username": "x"}).status_code == 403


def test_admin_cannot_touch_another_communes_agent(client, listes_admin, agent_listes_b, agent_listes):
    client.force_login(listes_admin)
    assert client.post(reverse("listes:user_toggle", args=[agent_listes_b.pk])).status_code == 404
    html = client.get(reverse("listes:users")).content.decode()
    assert agent_listes.username in html and agent_listes_b.username not in html
    client.post(reverse("listes:user_toggle", args=[agent_listes.pk]))
    agent_listes.refresh_from_db()
    assert not agent_listes.is_active

