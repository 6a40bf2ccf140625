"""The administrateur of the commune creates the utilisateur accounts of the guichet."""

from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from procuration.models import AuditLog, Role, User
from tests.accounts import activation_path, sent_to
from tests.factories import UserFactory


def test_admin_creates_an_utilisateur_who_chooses_the_password_and_must_set_up_totp(
    client, listes_admin, commune, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(listes_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:users"), {
            "first_name": "Paul", "last_name": "Bernard", "email": "paul@mairie.example",
        })
    assert response.status_code == 302
    agent = User.objects.get(email="paul@mairie.example")
    assert agent.username.startswith("paul.bernard.")
    assert agent.role == Role.AGENT_LISTES and agent.commune == commune and not agent.is_commune_admin
    assert not agent.has_usable_password()
    assert AuditLog.objects.filter(action="listes.agent_create", actor=listes_admin).exists()
    [mail] = sent_to(mailoutbox, "paul@mairie.example")
    password = "Paul-choisit-le-sien-2026"
    agent_client = Client()
    agent_client.post(activation_path(mail), {"password1": password, "password2": password})
    assert agent_client.login(username=agent.username, password=password)
    response = agent_client.get(reverse("listes:home"))
    assert response.status_code == 302 and "totp" in response["Location"]


def test_the_form_neither_takes_a_password_nor_probes_usernames(client, listes_admin, agent_listes_b):
    client.force_login(listes_admin)
    html = client.get(reverse("listes:users")).content.decode()
    assert 'name="password"' not in html and 'name="username"' not in html
    before = User.objects.count()
    html = client.post(reverse("listes:users"), {
        "username": agent_listes_b.username, "first_name": "P", "last_name": "B", "email": "pas-une-adresse",
        "password": "123",
    }).content.decode()
    assert "Saisissez une adresse e-mail valide." in html  # Django REST framework's French catalogue wins over Django's
    assert User.objects.count() == before


def test_admin_resets_an_utilisateur(client, listes_admin, agent_listes, mailoutbox,
                                     django_capture_on_commit_callbacks):
    client.force_login(listes_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("listes:user_reset", args=[agent_listes.pk]))
    assert response.status_code == 302
    agent_listes.refresh_from_db()
    assert not agent_listes.has_usable_password()
    assert not Authenticator.objects.filter(user=agent_listes).exists()
    assert AuditLog.objects.filter(action="listes.agent_reset", object_id=str(agent_listes.pk)).exists()
    assert len(sent_to(mailoutbox, agent_listes.email)) == 1
    other_admin = UserFactory(username="listes-admin-2", agent_listes=True, commune=listes_admin.commune,
                              is_commune_admin=True)
    for target in (listes_admin, other_admin):
        html = client.post(reverse("listes:user_reset", args=[target.pk]), follow=True).content.decode()
        assert "réinitialisé par l&#x27;administration nationale" in html
        target.refresh_from_db()
        assert target.has_usable_password()


def test_plain_utilisateur_cannot_manage_accounts(client, agent_listes):
    client.force_login(agent_listes)
    assert client.get(reverse("listes:users")).status_code == 403
    assert client.post(reverse("listes:users"), {"first_name": "x"}).status_code == 403
    assert client.post(reverse("listes:user_reset", args=[agent_listes.pk])).status_code == 403


def test_admin_cannot_touch_another_communes_agent(client, listes_admin, agent_listes_b, agent_listes):
    client.force_login(listes_admin)
    assert client.post(reverse("listes:user_toggle", args=[agent_listes_b.pk])).status_code == 404
    assert client.post(reverse("listes:user_reset", args=[agent_listes_b.pk])).status_code == 404
    agent_listes_b.refresh_from_db()
    assert agent_listes_b.has_usable_password()
    html = client.get(reverse("listes:users")).content.decode()
    assert agent_listes.username in html and agent_listes_b.username not in html
    client.post(reverse("listes:user_toggle", args=[agent_listes.pk]))
    agent_listes.refresh_from_db()
    assert not agent_listes.is_active
    assert agent_listes.session_generation == 1  # procuration.activation.set_active: its sessions end for good
