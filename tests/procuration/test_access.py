"""The door of every portal view: the staff TOTP check is remembered in the session, and
forgotten when the staff member removes the authenticator."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procuration.access import TOTP_CHECKED_SESSION_KEY, has_totp
from tests.factories import totp_code

HOME = reverse("police:home")


def _authenticator_queries(ctx):
    return [q["sql"] for q in ctx.captured_queries if "mfa_authenticator" in q["sql"]]


def test_totp_check_is_remembered_then_dropped_when_the_officer_deactivates_totp(client, policier, password):
    client.post(reverse("police:login"), {"login": policier.username, "password": password})
    client.post(reverse("mfa_authenticate"), {"code": totp_code(policier.totp_secret)})
    with CaptureQueriesContext(connection) as first:
        assert client.get(HOME).status_code == 200
    assert _authenticator_queries(first), "the first request checks the authenticator"
    assert client.session[TOTP_CHECKED_SESSION_KEY] == policier.pk
    with CaptureQueriesContext(connection) as second:
        assert client.get(HOME).status_code == 200
    assert _authenticator_queries(second) == []

    # The officer removes the TOTP on allauth's page, which asks for the password again first.
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": password})  # allauth then replays the stashed POST
    assert not has_totp(policier)
    assert TOTP_CHECKED_SESSION_KEY not in client.session
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))


def test_the_mark_belongs_to_the_user_who_earned_it(client, policier):
    """Another account in the same browser (a new login) is checked again."""
    from tests.factories import UserFactory

    client.force_login(policier)
    assert client.get(HOME).status_code == 200
    other = UserFactory(username="opj-sans-totp", policier=True, totp=False)
    client.force_login(other)
    session = client.session
    session[TOTP_CHECKED_SESSION_KEY] = policier.pk  # even if the mark survived the login
    session.save()
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))
