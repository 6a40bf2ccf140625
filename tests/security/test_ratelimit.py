"""Rate limits: staff logins (allauth ACCOUNT_RATE_LIMITS["login_failed"]), the police counter's
reference lookups (POLICE_LOOKUP_LIMIT, also tested per officer and per address in
tests/police/test_security.py) and the mandant's mandataire lookups (MANDANT_LOOKUPS_PER_WINDOW)."""

import html

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD
from tests.security.conftest import ANON, MANDANT_A, POLICIER

TOO_MANY_LOGINS = "Trop de tentatives de connexion échouées"


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _login(client, portal, username, password, ip="10.0.0.1"):
    return client.post(reverse(f"{portal}:login"), {"login": username, "password": password}, REMOTE_ADDR=ip)


def test_the_login_limit_is_configured():
    # Per account 5 failures per 5 minutes; per address high enough for one NAT (tests/security/test_limits.py).
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "300/5m/ip,5/5m/key"
    assert settings.ACCOUNT_RATE_LIMITS["login"] == "300/m/ip"


@pytest.mark.django_db
@pytest.mark.parametrize("portal", ["police", "mairie", "listes"])
def test_after_five_failed_logins_even_the_right_password_is_refused(world, portal):
    username = {"police": "opj", "mairie": "agent-a", "listes": "listes-a"}[portal]
    client = world.client(ANON)
    for _ in range(5):
        response = _login(client, portal, username, "mauvais-mot-de-passe")
        assert response.status_code == 200
        assert TOO_MANY_LOGINS not in _text(response)
    response = _login(client, portal, username, PASSWORD)
    assert response.status_code in (200, 429)
    assert TOO_MANY_LOGINS in _text(response)  # French, on the form
    assert "_auth_user_id" not in client.session
    assert "account_authentication_methods" not in client.session  # not even half-way (TOTP stage)


@pytest.mark.django_db
def test_the_limit_holds_per_account_from_another_address_not_for_another_account_behind_the_same(world):
    client = world.client(ANON)
    for _ in range(5):
        _login(client, "mairie", "agent-a", "mauvais-mot-de-passe", ip="10.0.0.1")
    # Same account from elsewhere (an unknown device): refused (per key).
    response = _login(world.client(ANON), "mairie", "agent-a", PASSWORD, ip="10.9.9.9")
    assert TOO_MANY_LOGINS in _text(response)
    # Another account from the same address (a colleague behind the same NAT) goes on to the TOTP step.
    response = _login(world.client(ANON), "police", "opj", PASSWORD, ip="10.0.0.1")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")


@pytest.mark.django_db
def test_the_limit_per_address_still_holds_at_its_setting(world, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "3/5m/ip,5/5m/key"}
    for username in ("agent-a", "listes-a", "opj"):
        _login(world.client(ANON), "mairie", username, "mauvais-mot-de-passe", ip="10.0.0.1")
    response = _login(world.client(ANON), "police", "opj", PASSWORD, ip="10.0.0.1")
    assert TOO_MANY_LOGINS in _text(response)


@pytest.mark.django_db
def test_police_reference_lookups_are_limited(world, settings):
    from procuration.models import AuditLog, Procuration

    settings.POLICE_LOOKUP_LIMIT = 3
    reference = Procuration.objects.get(pk=world.pk["en_attente"]).reference
    officer = world.client(POLICIER)
    for _ in range(3):
        assert officer.post(reverse("police:home"), {"reference": "ZZZZZZ"}).status_code == 200
    response = officer.post(reverse("police:home"), {"reference": reference})  # even a right one
    assert response.status_code == 429
    assert "Trop de recherches de références" in _text(response)
    assert AuditLog.objects.filter(action="police.lookup", detail__resultat="limite_atteinte").count() == 1


@pytest.mark.django_db
def test_mandataire_lookups_are_limited(world, settings):
    settings.MANDANT_LOOKUPS_PER_WINDOW = 2
    mandant = world.client(MANDANT_A)
    query = {"mode": "nne", "nne": "300000999", "date_naissance_nne": "1980-01-15"}
    url = reverse("mandant:verifier_mandataire")
    for _ in range(2):
        assert "Trop de recherches de mandataire" not in _text(mandant.get(url, query))
    response = mandant.get(url, query)
    assert response.status_code == 200
    assert "Trop de recherches de mandataire" in _text(response)
