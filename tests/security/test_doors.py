"""Doors by kind of user (docs/security.md, « Doors and proofs of identity »).

Electors prove who they are with FranceConnect or France Identité only: no password page of
allauth is theirs, a password never opens their account, a session they did not open through
OpenID Connect is refused. Staff and the national administrator log in with a password and a
TOTP code; the national administrator through the same login as staff, with no e-mail reset,
and every admin action is written to the audit trail.
"""

import html
import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.contrib.auth import BACKEND_SESSION_KEY
from django.test import RequestFactory
from django.urls import reverse

from procuration.access import OIDC_BACKEND, logged_in_as_designed
from procuration.models import AuditLog, Commune, Role, User
from tests.factories import CommuneFactory, UserFactory, totp_code

PASSWORD_BACKEND = "procuration.auth.ModelBackend"
ELECTOR_PASSWORD = "un-mot-de-passe-d-electeur-2026"


@pytest.fixture
def elector_with_password(mandant_user):
    """An elector account that somehow got a usable password (the old /comptes/password/set/)."""
    mandant_user.set_password(ELECTOR_PASSWORD)
    mandant_user.save()
    return mandant_user


# ------------------------------------------------------------------ allauth's pages: only staff's are mounted

# Paths, not names: these pages have no URL name any more.
UNMOUNTED = [
    "/comptes/password/set/", "/comptes/signup/", "/comptes/email/", "/comptes/confirm-email/",
    "/comptes/login/code/confirm/", "/comptes/3rdparty/", "/comptes/3rdparty/signup/",
    "/comptes/social/connections/", "/comptes/social/signup/",
]


@pytest.mark.parametrize("path", UNMOUNTED)
def test_password_email_and_signup_pages_do_not_exist(client, mandant_user, path):
    assert client.get(path).status_code == 404
    client.force_login(mandant_user)
    assert client.get(path).status_code == 404
    assert client.post(path, {"password1": ELECTOR_PASSWORD, "password2": ELECTOR_PASSWORD}).status_code == 404
    mandant_user.refresh_from_db()
    assert not mandant_user.has_usable_password()


@pytest.mark.parametrize("name", [
    "account_change_password", "account_reauthenticate", "account_reset_password", "mfa_index",
    "mfa_activate_totp", "mfa_reauthenticate", "mfa_generate_recovery_codes",
])
def test_staff_pages_are_404_to_a_logged_in_elector(client, mandant_user, name):
    client.force_login(mandant_user)
    assert client.get(reverse(name)).status_code == 404
    assert client.post(reverse(name), {"oldpassword": "x", "password1": ELECTOR_PASSWORD,
                                       "password2": ELECTOR_PASSWORD}).status_code == 404
    mandant_user.refresh_from_db()
    assert not mandant_user.has_usable_password()


# ------------------------------------------------------------------ password reset: staff only, reveals nothing


def _reset(client, email):
    return client.post(reverse("account_reset_password"), {"email": email})


def test_password_reset_sends_nothing_for_an_elector_and_answers_as_for_an_unknown_address(
    client, mandant_user, mailoutbox
):
    elector = _reset(client, mandant_user.email)
    unknown = _reset(client, "personne@example.fr")
    assert mailoutbox == []
    assert elector.status_code == unknown.status_code == 302
    assert elector["Location"] == unknown["Location"] == reverse("account_reset_password_done")


def test_password_reset_sends_nothing_for_the_national_administrator(client, admin_national, mailoutbox):
    response = _reset(client, admin_national.email)
    assert response.status_code == 302 and response["Location"] == reverse("account_reset_password_done")
    assert mailoutbox == []


def test_password_reset_still_works_for_an_officer(client, policier, mailoutbox):
    _reset(client, policier.email)
    assert [m.to for m in mailoutbox] == [[policier.email]]
    link = re.search(r"http://[^\s]+/comptes/password/reset/key/[^\s]+/", mailoutbox[0].body).group(0)
    response = client.get(link.split("testserver", 1)[-1], follow=True)
    assert 'name="password1"' in response.content.decode()


@pytest.mark.parametrize("who", ["mandant_user", "admin_national"])
def test_a_reset_link_for_an_elector_or_the_national_administrator_opens_nothing(client, request, who):
    """A link minted before the rule (or with a leaked key) sets no password."""
    user = request.getfixturevalue(who)
    before = User.objects.get(pk=user.pk).password
    url = reverse("account_reset_password_from_key",
                  kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)})
    response = client.get(url, follow=True)
    assert 'name="password1"' not in response.content.decode()
    client.post(response.redirect_chain[-1][0] if response.redirect_chain else url,
                {"password1": ELECTOR_PASSWORD, "password2": ELECTOR_PASSWORD})
    assert User.objects.get(pk=user.pk).password == before


# ------------------------------------------------------------------ a password never opens an elector's account


@pytest.mark.parametrize("login_url", ["police:login", "mairie:login", "listes:login", "account_login"])
def test_an_elector_with_a_usable_password_cannot_log_in_at_a_staff_login(client, elector_with_password, login_url):
    response = client.post(reverse(login_url), {"login": elector_with_password.username, "password": ELECTOR_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200  # the form again, with the same error as a wrong password
    assert client.get(reverse("mandant:home")).status_code == 302


def test_an_elector_password_session_is_refused_at_the_mandant_and_usager_doors(client, elector_with_password):
    """A password session of an elector, had one ever been opened: nobody on the next request."""
    client.force_login(elector_with_password, backend=PASSWORD_BACKEND)
    for name in ("mandant:home", "mandant:demande", "listes:usager_home", "listes:usager_ile_new"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("mandant:login")), name


def test_an_elector_oidc_session_opens_the_mandant_portal(client, mandant_user):
    client.force_login(mandant_user, backend=OIDC_BACKEND)
    assert client.get(reverse("mandant:home")).status_code == 200
    assert client.get(reverse("listes:usager_home")).status_code == 200


def test_staff_cannot_hold_an_oidc_session(client, policier):
    client.force_login(policier, backend=OIDC_BACKEND)
    response = client.get(reverse("police:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("police:login"))


def test_the_door_itself_checks_the_kind_of_login(mandant_user, policier):
    """portal_required's own check, independent of the backends' get_user."""
    request = RequestFactory().get("/")
    request.session = {BACKEND_SESSION_KEY: PASSWORD_BACKEND}
    request.user = mandant_user
    assert not logged_in_as_designed(request)
    request.session = {BACKEND_SESSION_KEY: OIDC_BACKEND}
    assert logged_in_as_designed(request)
    request.user = policier
    assert not logged_in_as_designed(request)
    request.session = {BACKEND_SESSION_KEY: PASSWORD_BACKEND}
    assert logged_in_as_designed(request)


def test_the_national_administrator_cannot_give_an_elector_a_password(client, admin_national, mandant_user):
    client.force_login(admin_national)
    url = reverse("admin:auth_user_password_change", args=[mandant_user.pk])
    assert client.get(url).status_code == 404
    client.post(url, {"password1": ELECTOR_PASSWORD, "password2": ELECTOR_PASSWORD, "usable_password": "true"})
    mandant_user.refresh_from_db()
    assert not mandant_user.has_usable_password()


# ------------------------------------------------------------------ /admin/: the staff login, TOTP, audit trail


def test_admin_login_sends_to_the_staff_login_with_next(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"] == f"{reverse('admin:login')}?next=/admin/"
    response = client.get(response["Location"])
    assert response.status_code == 302 and response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"


def test_admin_login_form_takes_no_password(client, admin_national, password):
    response = client.post(reverse("admin:login"), {"username": admin_national.username, "password": password})
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_admin_login_ignores_a_next_to_another_site(client):
    response = client.get(reverse("admin:login"), {"next": "https://ailleurs.example/"})
    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"


def test_superuser_without_totp_cannot_open_admin(client, db):
    admin = UserFactory(username="national-sans-totp", admin_national=True, totp=False)
    client.force_login(admin)
    response = client.get(reverse("admin:procuration_commune_changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))


def test_the_national_administrator_logs_in_with_password_then_totp(client, admin_national, password):
    response = client.post(f"{reverse('account_login')}?next=/admin/",
                           {"login": admin_national.username, "password": password})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302  # not in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(admin_national.totp_secret)})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_login_failures_are_rate_limited_like_staff(client, admin_national, password):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": admin_national.username, "password": "mauvais-mot-de-passe"})
    response = client.post(reverse("account_login"), {"login": admin_national.username, "password": password})
    assert response.status_code in (200, 429) and "account_authentication_methods" not in client.session
    assert "Trop de tentatives de connexion échouées" in html.unescape(response.content.decode())


def test_other_roles_get_403_at_admin(client, policier, mandant_user):
    for user in (policier, mandant_user):
        client.force_login(user)
        assert client.get(reverse("admin:index")).status_code == 403
        assert client.get(reverse("admin:login")).status_code == 403


def test_admin_actions_are_written_to_the_audit_trail(client, admin_national):
    client.force_login(admin_national)
    url = reverse("admin:procuration_commune_add")
    data = {"code_insee": "46001", "nom": "Albas", "departement": "46", "population": "550",
            "email_service": "mairie@albas.example"}
    page = client.get(url).content.decode()
    # Send the add form with its own defaults for the fields this test does not set.
    for field, value in re.findall(r'<input type="(?:number|text|email)" name="([a-z_]+)" value="([^"]*)"', page):
        data.setdefault(field, value)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    commune = Commune.objects.get(code_insee="46001")
    added = AuditLog.objects.get(action="admin.ajout")
    assert (added.actor_id, added.object_type, added.object_id) == (admin_national.pk, "procuration.Commune",
                                                                     str(commune.pk))
    assert added.detail["repr"] == str(commune)

    data["nom"] = "Albas-sur-Lot"
    client.post(reverse("admin:procuration_commune_change", args=[commune.pk]), data)
    changed = AuditLog.objects.get(action="admin.modification")
    assert changed.actor_id == admin_national.pk and changed.object_id == str(commune.pk)
    assert "nom" in str(changed.detail["message"]) or "Nom" in str(changed.detail["message"])

    client.post(reverse("admin:procuration_commune_delete", args=[commune.pk]), {"post": "yes"})
    assert not Commune.objects.filter(pk=commune.pk).exists()
    deleted = AuditLog.objects.get(action="admin.suppression")
    assert (deleted.actor_id, deleted.object_id, deleted.detail["repr"]) == (admin_national.pk, str(commune.pk),
                                                                           "Albas-sur-Lot (46001)")


def test_bulk_deletion_and_library_admins_are_audited_too(client, admin_national):
    """Every ModelAdmin of the site is audited, the bulk action and a library's admin included."""
    from django.contrib.auth.models import Group

    a, b = CommuneFactory(nom="A"), CommuneFactory(nom="B")
    client.force_login(admin_national)
    client.post(reverse("admin:procuration_commune_changelist"),
                {"action": "delete_selected", "_selected_action": [a.pk, b.pk], "post": "yes"})
    assert sorted(AuditLog.objects.filter(action="admin.suppression").values_list("object_id", flat=True)) == sorted(
        [str(a.pk), str(b.pk)])
    client.post(reverse("admin:auth_group_add"), {"name": "Contrôleurs"})
    group = Group.objects.get(name="Contrôleurs")
    entry = AuditLog.objects.get(action="admin.ajout")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (admin_national.pk, "auth.Group", str(group.pk))


def test_staff_roles_are_the_password_roles():
    """Every role has exactly one kind of login."""
    from procuration.access import OIDC_ROLES, PASSWORD_ROLES

    assert OIDC_ROLES | PASSWORD_ROLES == set(Role.values) and not OIDC_ROLES & PASSWORD_ROLES


def test_an_officer_changes_their_password_on_the_dsfr_page(client, policier, password):
    client.force_login(policier)
    page = client.get(reverse("account_change_password")).content.decode()
    assert "Changer de mot de passe" in page and 'name="oldpassword"' in page
    response = client.post(reverse("account_change_password"), {"oldpassword": "faux", "password1": "x",
                                                                "password2": "y"})
    assert response.status_code == 200 and "fr-error-text" in response.content.decode()
    new = "Un-nouveau-mot-de-passe-2026"
    response = client.post(reverse("account_change_password"), {"oldpassword": password, "password1": new,
                                                                "password2": new})
    assert response.status_code == 302
    policier.refresh_from_db()
    assert policier.check_password(new)
