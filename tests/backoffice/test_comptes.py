"""The accounts the national back office creates, managed from its pages: an officer's or a commune
administrator's account disabled and enabled again, its access reset (password and TOTP) after a
lost phone; nobody else's account, and nobody but the national administrator."""

import datetime
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from procuration.exceptions import DomainError
from procuration.models import AuditLog, OutboxEmail, User
from tests.accounts import activation_path
from tests.backoffice.test_backoffice import text
from tests.factories import PASSWORD, UserFactory, totp_code

pytestmark = pytest.mark.django_db


def activation(pk):
    return reverse("backoffice:compte_activation", args=[pk])


def reset(pk):
    return reverse("backoffice:compte_reset", args=[pk])


def post(client, url, data=None):
    """POST, then read the page it redirects to, as the browser does (the messages are shown there, once)."""
    r = client.post(url, data or {})
    r.told = [(m.level_tag, m.message) for m in get_messages(r.wsgi_request)]
    if r.status_code == 302:
        client.get(r["Location"])
    return r


def audit(user) -> list[tuple[str, int]]:
    return list(AuditLog.objects.filter(object_id=str(user.pk), action__startswith="backoffice.compte_")
                .order_by("seq").values_list("action", "actor"))


def logged_in(user, portal: str) -> Client:
    """A client that went through the portal's real login: password, then the TOTP code."""
    c = Client()
    c.post(reverse(f"{portal}:login"), {"login": user.username, "password": PASSWORD})
    c.post(reverse("mfa_authenticate"), {"code": totp_code(user.totp_secret)})
    assert c.get(reverse(f"{portal}:home")).status_code == 200
    return c


@pytest.fixture
def listes_admin(commune):
    return UserFactory(username="listes-admin", agent_listes=True, is_commune_admin=True, commune=commune,
                       first_name="Émile", last_name="Roux")


# ------------------------------------------------------------------ the pages offer the actions
def form_for(page: str, url: str) -> str:
    match = re.search(rf'<form method="post" action="{re.escape(url)}"[^>]*>.*?</form>', page, re.S)
    assert match, f"no form posting to {url}"
    return match.group(0)


def test_the_units_and_the_commune_list_the_actions_of_each_account(admin_client, policier, commune_admin,
                                                                     agent_mairie):
    units = text(admin_client.get(reverse("backoffice:unites")))
    form = form_for(units, activation(policier.pk))
    assert 'name="active" value="0"' in form and "Désactiver<span class=\"fr-sr-only\"> le compte : Julie MARTIN" in form
    assert "csrfmiddlewaretoken" in form
    assert "Réinitialiser l'accès" in form_for(units, reset(policier.pk))
    commune = text(admin_client.get(reverse("backoffice:commune", args=[commune_admin.commune_id])))
    form_for(commune, activation(commune_admin.pk))
    form_for(commune, reset(commune_admin.pk))
    assert activation(agent_mairie.pk) not in commune  # a plain agent is the commune administrator's to manage

    User.objects.filter(pk=policier.pk).update(is_active=False)
    units = text(admin_client.get(reverse("backoffice:unites")))
    assert 'name="active" value="1"' in form_for(units, activation(policier.pk))
    assert reset(policier.pk) not in units  # a disabled account's link would not open


# ------------------------------------------------------------------ disable, enable
@pytest.mark.parametrize(("first_name", "last_name", "de"), [
    ("Jean", "Dupont", "de Jean DUPONT"), ("Anne", "Roy", "d'Anne ROY"), ("Élodie", "Petit", "d'Élodie PETIT"),
])
def test_the_national_admin_disables_then_enables_an_officer(admin_client, admin_national, first_name, last_name, de):
    officer = UserFactory(username="opj-2", policier=True, first_name=first_name, last_name=last_name)
    r = post(admin_client, activation(officer.pk), {"active": "0"})
    assert r.status_code == 302 and r["Location"] == reverse("backoffice:unites")
    assert r.told == [("success", f"Le compte {de} est désactivé.")]
    officer.refresh_from_db()
    assert not officer.is_active
    r = post(admin_client, activation(officer.pk), {"active": "1"})
    assert r.told == [("success", f"Le compte {de} est réactivé.")]
    officer.refresh_from_db()
    assert officer.is_active
    assert audit(officer) == [("backoffice.compte_disable", admin_national.pk),
                              ("backoffice.compte_enable", admin_national.pk)]


def test_a_commune_administrator_of_either_space_is_disabled_from_its_commune(admin_client, commune, commune_admin,
                                                                              listes_admin):
    for account in (commune_admin, listes_admin):
        r = admin_client.post(activation(account.pk), {"active": "0"}, follow=True)
        assert r.redirect_chain == [(reverse("backoffice:commune", args=[commune.pk]), 302)]
        account.refresh_from_db()
        assert not account.is_active
        assert re.search(rf'<tr data-username="{account.username}">.*?<td>Désactivé</td>', text(r))
        assert audit(account) == [("backoffice.compte_disable", r.wsgi_request.user.pk)]
    assert f"Le compte d'{listes_admin} est désactivé." in text(r)


def test_disabling_a_disabled_account_changes_nothing_and_records_nothing(admin_client, policier):
    post(admin_client, activation(policier.pk), {"active": "0"})
    r = post(admin_client, activation(policier.pk), {"active": "0"})  # a second tab, a double click
    assert r.told == [("success", "Le compte de Julie MARTIN est désactivé.")]
    assert [a for a, _ in audit(policier)] == ["backoffice.compte_disable"]


@pytest.mark.parametrize("value", [None, "", "oui", "2"])
def test_the_action_must_say_which_state(admin_client, policier, value):
    r = admin_client.post(activation(policier.pk), {} if value is None else {"active": value})
    assert r.status_code == 400
    policier.refresh_from_db()
    assert policier.is_active and audit(policier) == []


@pytest.mark.parametrize("portal", ["police", "mairie"])
def test_a_disabled_persons_session_ends_at_its_next_request(admin_client, policier, commune_admin, portal):
    account = policier if portal == "police" else commune_admin
    session = logged_in(account, portal)
    post(admin_client, activation(account.pk), {"active": "0"})
    home = reverse(f"{portal}:home")
    r = session.get(home)
    assert r.status_code == 302 and r["Location"] == f"{reverse(f'{portal}:login')}?next={home}"
    # Nor does the password open a new one.
    again = Client()
    again.post(reverse(f"{portal}:login"), {"login": account.username, "password": PASSWORD})
    assert again.get(home).status_code == 302 and "_auth_user_id" not in again.session


@pytest.mark.parametrize("portal", ["police", "mairie"])
def test_a_session_ended_by_disabling_does_not_come_back_when_the_account_is_enabled_again(
        admin_client, policier, commune_admin, portal):
    """Disabling raises the account's session generation (User._get_session_auth_hash): the session
    opened before stays refused once the account is enabled again; the person logs in anew."""
    account = policier if portal == "police" else commune_admin
    session = logged_in(account, portal)
    post(admin_client, activation(account.pk), {"active": "0"})
    post(admin_client, activation(account.pk), {"active": "1"})
    account.refresh_from_db()
    assert (account.is_active, account.session_generation) == (True, 1)
    home = reverse(f"{portal}:home")
    r = session.get(home)
    assert r.status_code == 302 and r["Location"] == f"{reverse(f'{portal}:login')}?next={home}"
    assert "_auth_user_id" not in session.session
    with time_machine.travel(datetime.timedelta(seconds=60)):  # the next TOTP code: a code is used once
        logged_in(account, portal)  # a new login works


def test_the_session_hash_is_djangos_until_the_generation_is_raised():
    """Sessions opened before the generation existed keep their hash (generation 0), a raised
    generation changes it, and a new password still does."""
    from django.contrib.auth.base_user import AbstractBaseUser

    user = User(password="pbkdf2_sha256$1$salt$hash")
    assert user.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(user)
    first = user.get_session_auth_hash()
    user.session_generation = 1
    raised = user.get_session_auth_hash()
    assert raised != first
    user.password = "pbkdf2_sha256$1$salt$other"
    assert user.get_session_auth_hash() not in (first, raised)


# ------------------------------------------------------------------ reset after a lost phone
def test_reset_removes_password_and_totp_ends_the_session_and_enrols_again(admin_client, admin_national, policier):
    session = logged_in(policier, "police")
    r = post(admin_client, reset(policier.pk))
    assert r.status_code == 302 and r["Location"] == reverse("backoffice:unites")
    assert r.told == [("success", "L'accès de Julie MARTIN est réinitialisé : son mot de passe et son application "
                                   "d'authentification ne sont plus acceptés. Un nouveau lien d'activation est envoyé "
                                   f"à {policier.email}.")]
    policier.refresh_from_db()
    assert not Authenticator.objects.filter(user=policier).exists()
    assert not policier.has_usable_password() and policier.is_active
    assert audit(policier) == [("backoffice.compte_reset", admin_national.pk)]
    # The session opened with the lost phone ends at its next request (the password changed).
    home = reverse("police:home")
    assert session.get(home)["Location"] == f"{reverse('police:login')}?next={home}"
    # The officer chooses a password through the link, then must enrol a new TOTP before anything else.
    mail = OutboxEmail.objects.get(kind="staff_activation", to=policier.email)
    new_password = "Julie-recommence-2026"
    assert Client().post(activation_path(mail), {"password1": new_password, "password2": new_password}).status_code == 302
    c = Client()
    c.post(reverse("police:login"), {"login": policier.username, "password": new_password})
    for page in (home, reverse("police:historique")):
        r = c.get(page)
        assert r.status_code == 302 and r["Location"].startswith(reverse("mfa_activate_totp")), page


def test_a_commune_administrators_access_is_reset_from_its_commune(admin_client, commune_admin):
    r = post(admin_client, reset(commune_admin.pk))
    assert r["Location"] == reverse("backoffice:commune", args=[commune_admin.commune_id])
    assert not Authenticator.objects.filter(user=commune_admin).exists()
    assert OutboxEmail.objects.filter(kind="staff_activation", to=commune_admin.email).count() == 1


def test_a_disabled_account_is_not_reset(admin_client, policier):
    post(admin_client, activation(policier.pk), {"active": "0"})
    r = post(admin_client, reset(policier.pk))
    assert r.told == [("error", "Le compte de Julie MARTIN est désactivé : réactivez-le d'abord, le lien "
                                 "d'activation ne s'ouvre pas pour un compte désactivé.")]
    policier.refresh_from_db()
    assert policier.has_usable_password() and Authenticator.objects.filter(user=policier).exists()
    assert not OutboxEmail.objects.filter(kind="staff_activation").exists()


# ------------------------------------------------------------------ whose accounts, who acts
def _state():
    return (sorted(User.objects.values_list("pk", "is_active", "password")), Authenticator.objects.count(),
            AuditLog.objects.filter(action__startswith="backoffice.").count(), OutboxEmail.objects.count())


# The accounts the back office's account actions do not find (backoffice.views._account): 404 for each.
OTHER_ACCOUNTS = ["mandant", "agent_mairie", "agent_listes", "other_national_admin", "self", "unknown"]


def other_account_pk(kind, admin_national, commune, agent_mairie) -> int:
    return {
        "mandant": lambda: UserFactory(username="electeur").pk,
        "agent_mairie": lambda: agent_mairie.pk,  # a plain agent: the commune administrator's
        "agent_listes": lambda: UserFactory(username="listes-a", agent_listes=True, commune=commune).pk,
        "other_national_admin": lambda: UserFactory(username="national-2", admin_national=True).pk,
        "self": lambda: admin_national.pk,  # the national administrator cannot disable themself
        "unknown": lambda: 999999,
    }[kind]()


@pytest.mark.parametrize("kind", OTHER_ACCOUNTS)
def test_any_other_account_is_not_found(admin_client, admin_national, commune, agent_mairie, kind):
    pk = other_account_pk(kind, admin_national, commune, agent_mairie)
    before = _state()
    for url in (activation(pk), reset(pk)):
        assert admin_client.post(url, {"active": "0"}).status_code == 404, url
    assert _state() == before


@pytest.mark.parametrize("role", ["anonymous", "policier", "police_admin", "commune_admin", "agent_mairie",
                                  "listes_admin", "mandant"])
def test_only_the_national_admin_acts(client, policier, commune_admin, agent_mairie, listes_admin, role):
    actor = {
        "anonymous": None, "policier": policier, "commune_admin": commune_admin, "agent_mairie": agent_mairie,
        "listes_admin": listes_admin, "mandant": UserFactory(username="electeur"),
        "police_admin": UserFactory(username="opj-chef", policier=True, is_unit_admin=True),
    }[role]
    if actor is not None:
        client.force_login(actor)
    before = _state()
    for target in (policier, commune_admin):
        for url in (activation(target.pk), reset(target.pk)):
            assert client.get(url).status_code == 405  # POST only, before the door
            r = client.post(url, {"active": "0"})
            if actor is None:
                assert r.status_code == 302 and r["Location"] == f"{reverse('backoffice:login')}?next={url}"
            else:
                assert r.status_code == 403, (role, url)
    assert _state() == before


def test_the_shared_rule_refuses_to_disable_ones_own_account(rf, commune_admin):
    """procuration.activation.set_active, shared with the mairie's page of agents."""
    from procuration.activation import set_active

    request = rf.post("/")
    request.user = commune_admin
    with pytest.raises(DomainError, match="votre propre compte"):
        set_active(request, commune_admin, False, action="test.compte")
    commune_admin.refresh_from_db()
    assert commune_admin.is_active
    national = UserFactory(username="national-2", admin_national=True)
    with pytest.raises(ValueError):  # staff accounts only: never a national administrator, never an elector
        set_active(request, national, False, action="test.compte")
    national.refresh_from_db()
    assert national.is_active and not AuditLog.objects.filter(action__startswith="test.compte").exists()
