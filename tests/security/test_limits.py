"""Limits that stop attackers without stopping everyone: the client address behind a proxy
(TRUSTED_PROXIES), failed logins per account and per known device, per-address limits high enough
for a commissariat behind one NAT (docs/security.md, « Limites de tentatives »)."""

import html
import time

import pytest
from django.test import RequestFactory
from django.urls import reverse

from procuration.mfa import KNOWN_DEVICE_COOKIE
from procuration.models import AuditLog
from procuration.network import client_ip
from tests.factories import PASSWORD, ElecteurFactory, ProcurationFactory, UserFactory

TOO_MANY_LOGINS = "Trop de tentatives de connexion échouées"
MFA = reverse("mfa_authenticate")


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _code(secret: str, step: int = 0) -> str:
    """The TOTP code of the current 30-second step + step (allauth accepts ±1 and refuses a code twice)."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD + step))


def _password(client, username, password, ip, portal="police", **extra):
    return client.post(reverse(f"{portal}:login"), {"login": username, "password": password}, REMOTE_ADDR=ip, **extra)


def _totp(client, code, ip, **extra):
    return client.post(MFA, {"code": code}, REMOTE_ADDR=ip, **extra)


# ------------------------------------------------------------------ the client's address
def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(_request("192.0.2.50", "198.51.100.1")) == "192.0.2.50"
    settings.TRUSTED_PROXIES = []  # the default: nobody's header is believed
    assert client_ip(_request("10.0.0.5", "198.51.100.1")) == "10.0.0.5"


def test_from_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::1"]
    # The client put 198.51.100.1 in the header itself; our proxies appended the rest.
    assert client_ip(_request("10.0.0.5", "198.51.100.1, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"
    assert client_ip(_request("2001:db8::1", "203.0.113.10")) == "203.0.113.10"
    assert client_ip(_request("10.0.0.5", "pas-une-adresse, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("10.0.0.5")) == "10.0.0.5"  # no header: the proxy itself


@pytest.mark.django_db
def test_allauth_counts_failed_logins_per_client_behind_the_proxy(settings):
    """Behind the proxy, one client's failures do not lock another client's address."""
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    UserFactory(username="opj-a", policier=True)
    b = UserFactory(username="opj-b", policier=True)
    settings.LOGIN_FAILURES_PER_IP = 3
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "3/5m/ip,50/5m/key"}
    from django.test import Client

    attacker = Client()
    for _ in range(4):
        _password(attacker, "opj-a", "mauvais-mot-de-passe", "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert TOO_MANY_LOGINS in _text(_password(attacker, "opj-a", "x", "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.66"))
    # A spoofed header from outside the proxy is ignored: this is the attacker's own address again.
    spoof = _password(Client(), "opj-a", "x", "198.51.100.66", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert TOO_MANY_LOGINS in _text(spoof)
    # Another client through the same proxy logs in.
    response = _password(Client(), b.username, PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.20")
    assert response.status_code == 302 and response["Location"] == MFA


@pytest.mark.django_db
def test_the_audit_trail_records_the_client_behind_the_proxy_not_a_spoofed_one(client, policier, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client.force_login(policier)
    client.post(reverse("police:home"), {"reference": "ZZZZZZ"}, REMOTE_ADDR="10.0.0.5",
                HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.post(reverse("police:home"), {"reference": "ZZZZZZ"}, REMOTE_ADDR="192.0.2.50",
                HTTP_X_FORWARDED_FOR="203.0.113.9")
    ips = list(AuditLog.objects.filter(action="police.lookup").order_by("pk").values_list("ip", flat=True))
    assert ips == ["203.0.113.9", "192.0.2.50"]


# ------------------------------------------------------------------ per account, per known device
@pytest.mark.django_db
def test_failing_totp_for_one_account_does_not_stop_another_from_the_same_address(client):
    a = UserFactory(username="opj-a", policier=True)
    b = UserFactory(username="opj-b", policier=True)
    ip = "192.0.2.10"  # one commissariat, one NAT
    assert _password(client, a.username, PASSWORD, ip)["Location"] == MFA
    for _ in range(5):
        assert TOO_MANY_LOGINS not in _text(_totp(client, "000000", ip))
    assert TOO_MANY_LOGINS in _text(_totp(client, _code(a.totp_secret), ip))  # A is slowed down
    from django.test import Client

    colleague = Client()
    assert _password(colleague, b.username, PASSWORD, ip)["Location"] == MFA
    response = _totp(colleague, _code(b.totp_secret), ip)
    assert response.status_code == 302
    assert colleague.session["_auth_user_id"] == str(b.pk)


@pytest.mark.django_db
def test_the_owner_of_a_targeted_account_still_logs_in_from_a_known_device(client):
    owner = UserFactory(username="opj-cible", policier=True)
    # Yesterday: a full login (password + TOTP) from the owner's browser makes it a known device.
    _password(client, owner.username, PASSWORD, "192.0.2.10")
    response = _totp(client, _code(owner.totp_secret, -1), "192.0.2.10")
    assert response.status_code == 302 and KNOWN_DEVICE_COOKIE in response.cookies
    client.post(reverse("account_logout"), REMOTE_ADDR="192.0.2.10")
    # An attacker who knows the username keeps failing on it, from elsewhere and from the same NAT.
    from django.test import Client

    attacker = Client()
    for ip in ("198.51.100.66", "192.0.2.10") * 3:
        _password(attacker, owner.username, "mauvais-mot-de-passe", ip)
    assert TOO_MANY_LOGINS in _text(_password(attacker, owner.username, PASSWORD, "198.51.100.66"))
    assert TOO_MANY_LOGINS in _text(_password(Client(), owner.username, PASSWORD, "203.0.113.5"))  # unknown device
    # The owner, from the known device: password then TOTP, logged in.
    assert _password(client, owner.username, PASSWORD, "192.0.2.10")["Location"] == MFA
    response = _totp(client, _code(owner.totp_secret, 0), "192.0.2.10")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


@pytest.mark.django_db
def test_a_device_cookie_is_known_only_for_its_accounts_and_cannot_be_forged(client):
    owner = UserFactory(username="opj-cible", policier=True)
    other = UserFactory(username="opj-autre", policier=True)
    _password(client, other.username, PASSWORD, "192.0.2.10")
    assert _totp(client, _code(other.totp_secret), "192.0.2.10").status_code == 302
    client.post(reverse("account_logout"), REMOTE_ADDR="192.0.2.10")
    from django.test import Client

    for _ in range(5):
        _password(Client(), owner.username, "mauvais-mot-de-passe", "198.51.100.66")
    # Known for "other", not for the targeted account: the account's counter applies.
    assert TOO_MANY_LOGINS in _text(_password(client, owner.username, PASSWORD, "192.0.2.10"))
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = client.cookies[KNOWN_DEVICE_COOKIE].value.replace(":", ";", 1)
    assert TOO_MANY_LOGINS in _text(_password(forged, owner.username, PASSWORD, "192.0.2.10"))


# ------------------------------------------------------------------ per address: one NAT, many staff
@pytest.mark.django_db
def test_a_hundred_officers_behind_one_address_each_mistyping_once_all_log_in():
    from django.test import Client

    ip = "192.0.2.10"
    for i in range(100):
        UserFactory(username=f"opj-{i}", policier=True, totp=False)
    for i in range(100):
        officer = Client()
        assert TOO_MANY_LOGINS not in _text(_password(officer, f"opj-{i}", "mauvais-mot-de-passe", ip))
        response = _password(officer, f"opj-{i}", PASSWORD, ip)
        assert response.status_code == 302, (i, _text(response))


@pytest.mark.django_db
def test_forty_officers_behind_one_address_each_look_up_references(commune):
    from django.test import Client

    p = ProcurationFactory(en_attente=True, reference="K7M2QX", mandant=ElecteurFactory(commune=commune))
    for i in range(40):
        officer = Client()
        officer.force_login(UserFactory(username=f"opj-{i}", policier=True))
        assert officer.post(reverse("police:home"), {"reference": "ZZZZZZ"}, REMOTE_ADDR="192.0.2.10").status_code == 200
        response = officer.post(reverse("police:home"), {"reference": p.reference}, REMOTE_ADDR="192.0.2.10")
        assert response.status_code == 302, i
