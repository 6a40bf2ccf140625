"""Staff accounts whose secrets only the agent knows: single-use, expiring activation links
bound to the account's state (procuration/activation.py)."""

import datetime
import html

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from procuration.activation import activation_url, issue_activation, new_staff_username
from procuration.models import AuditLog, OutboxEmail, User
from tests.accounts import activation_path, sent_to
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Mon-propre-secret-2026"
INVALID = "Ce lien d'activation n'est plus valable"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def agent(commune):
    return UserFactory(username="agent-a", agent_mairie=True, commune=commune, email="agent-a@almayrac.fr",
                       first_name="Camille")


def issue(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        issue_activation(user)
    user.refresh_from_db()


def test_issuing_a_link_clears_password_and_totp_and_mails_the_agent(agent, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    assert agent.has_usable_password() and Authenticator.objects.filter(user=agent).exists()
    issue(agent, django_capture_on_commit_callbacks)
    assert not agent.has_usable_password()
    assert not Authenticator.objects.filter(user=agent).exists()
    [mail] = sent_to(mailoutbox, "agent-a@almayrac.fr")
    assert "agent-a" in mail.body and "72 heures" in mail.body
    assert OutboxEmail.objects.get(kind="staff_activation").to == "agent-a@almayrac.fr"
    assert activation_path(mail).startswith("/activation/")


def test_the_agent_chooses_the_password_once_then_logs_in_and_must_enrol_totp(
    client, agent, mailoutbox, django_capture_on_commit_callbacks
):
    issue(agent, django_capture_on_commit_callbacks)
    path = activation_path(mailoutbox[-1])
    page = client.get(path)
    assert page.status_code == 200 and "agent-a" in text(page)

    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mairie:login')}?next={reverse('mairie:home')}"
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert AuditLog.objects.filter(action="compte.activation", object_id=str(agent.pk)).exists()

    # Used: the same link answers a clear message and changes nothing.
    password_hash = agent.password
    again = client.post(path, {"password1": "Un-autre-secret-2026", "password2": "Un-autre-secret-2026"})
    assert again.status_code == 200 and INVALID in text(again)
    assert INVALID in text(client.get(path))
    agent.refresh_from_db()
    assert agent.password == password_hash

    # The agent's own login works; the portal's door sends them to enrol their own TOTP.
    agent_client = Client()
    assert agent_client.login(username="agent-a", password=NEW_PASSWORD)
    door = agent_client.get(reverse("mairie:queue"))
    assert door.status_code == 302 and door["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_newer_link_replaces_the_older_one(client, agent, mailoutbox, django_capture_on_commit_callbacks):
    issue(agent, django_capture_on_commit_callbacks)
    first = activation_path(mailoutbox[-1])
    issue(agent, django_capture_on_commit_callbacks)
    second = activation_path(mailoutbox[-1])
    assert first != second
    response = client.post(first, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert INVALID in text(response)
    agent.refresh_from_db()
    assert not agent.has_usable_password()
    assert client.post(second, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302


def test_the_link_expires_after_the_configured_lifetime(client, agent, settings, mailoutbox,
                                                        django_capture_on_commit_callbacks):
    settings.STAFF_ACTIVATION_LINK_HOURS = 24
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        issue(agent, django_capture_on_commit_callbacks)
        path = activation_path(mailoutbox[-1])
    with time_machine.travel(start + datetime.timedelta(hours=23), tick=False):
        assert "Confirmation du mot de passe" in text(client.get(path))
    with time_machine.travel(start + datetime.timedelta(hours=24, seconds=5), tick=False):
        response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 200 and INVALID in text(response)
    agent.refresh_from_db()
    assert not agent.has_usable_password()


@pytest.mark.parametrize("mangle", [
    lambda p: p.replace("/activation/", "/activation/x"),  # another uid
    lambda p: p[:-3] + "zz/",  # a forged signature
    lambda p: "/activation/MQ/abc-def/",  # nonsense
    lambda p: "/activation/OTk5OTk5OTk5OTk5OTk5OTk5OTk5/abc-def/",  # a uid beyond the primary key's range
])
def test_a_forged_link_changes_nothing(client, agent, mailoutbox, django_capture_on_commit_callbacks, mangle):
    issue(agent, django_capture_on_commit_callbacks)
    path = mangle(activation_path(mailoutbox[-1]))
    response = client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 200 and INVALID in text(response)
    agent.refresh_from_db()
    assert not agent.has_usable_password()


def test_changing_the_email_or_disabling_the_account_voids_the_link(client, agent, mailoutbox,
                                                                     django_capture_on_commit_callbacks):
    issue(agent, django_capture_on_commit_callbacks)
    path = activation_path(mailoutbox[-1])
    User.objects.filter(pk=agent.pk).update(email="autre@almayrac.fr")
    assert INVALID in text(client.get(path))
    issue(agent, django_capture_on_commit_callbacks)
    path = activation_path(mailoutbox[-1])
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert INVALID in text(client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}))
    agent.refresh_from_db()
    assert not agent.has_usable_password()


@pytest.mark.parametrize("data, error", [
    ({"password1": NEW_PASSWORD, "password2": "Autre-chose-2026"}, "Les deux mots de passe ne sont pas identiques."),
    ({"password1": "court", "password2": "court"}, "Ce mot de passe est trop court"),
    ({"password1": "agent-a@almayrac.fr", "password2": "agent-a@almayrac.fr"}, "trop semblable"),
])
def test_bad_passwords_are_refused_and_the_link_stays_usable(client, agent, mailoutbox,
                                                             django_capture_on_commit_callbacks, data, error):
    issue(agent, django_capture_on_commit_callbacks)
    path = activation_path(mailoutbox[-1])
    response = client.post(path, data)
    assert response.status_code == 200 and error in text(response)
    agent.refresh_from_db()
    assert not agent.has_usable_password()
    assert client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302


def test_links_are_for_staff_accounts_only(client, mandant_user):
    url = activation_url(mandant_user)
    assert INVALID in text(client.get(url.split("8000", 1)[-1]))
    with pytest.raises(ValueError), transaction.atomic():
        issue_activation(mandant_user)


@pytest.mark.django_db(transaction=True)
def test_issuing_a_link_outside_a_transaction_is_refused(agent):
    with pytest.raises(RuntimeError):
        issue_activation(agent)
    agent.refresh_from_db()
    assert agent.has_usable_password()


def test_generated_usernames_are_unique_and_reveal_no_other_account(commune):
    UserFactory(username="camille.leroy")
    names = {new_staff_username("Camille", "Le Roy") for _ in range(20)}
    assert all(n.startswith("camille.le-roy.") and len(n) == len("camille.le-roy.") + 4 for n in names)
    assert len(names) > 1  # random suffix, not a counter that tells how many namesakes exist
    assert new_staff_username("Éloïse", "D'Aubigné").startswith("eloise.d-aubigne.")
    assert new_staff_username("", "").startswith("agent.")
