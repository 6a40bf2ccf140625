"""Security headers on every page, and the production settings (HSTS, secure cookies, HTTPS).
`manage.py check --deploy` is proved clean in tests/procuration/test_foundation.py."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.security.conftest import AGENT_A, ANON, MANDANT_A, POLICIER


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role,name", [(ANON, "home"), (ANON, "police:login"), (MANDANT_A, "mandant:home"), (POLICIER, "police:home"),
                  (AGENT_A, "mairie:queue"), (MANDANT_A, "mandant:demande_validite")],
)
def test_security_headers_on_pages(world, role, name):
    response = world.client(role).get(reverse(name))
    assert response.status_code == 200
    csp = _csp(response)
    script_src = csp["script-src"]
    # Scripts from our own origin, or carrying this response's nonce (django-csp adds it to the
    # header only when the page used it); never inline without it, never eval.
    assert script_src[0] == "'self'"
    assert all(s == "'self'" or s.startswith("'nonce-") for s in script_src), script_src
    nonces = [s[7:-1] for s in script_src if s.startswith("'nonce-")]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        if "nonce=" in tag:
            assert nonces and f'nonce="{nonces[0]}"' in tag, tag
        else:
            assert " src=" in tag, f"inline script without the nonce: {tag}"
    if name == "mandant:demande_validite":
        assert nonces, "the step's script carries a nonce"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_nonce_changes_at_every_response(world):
    client = world.client(MANDANT_A)
    url = reverse("mandant:demande_validite")
    first = _csp(client.get(url))["script-src"]
    second = _csp(client.get(url))["script-src"]
    assert len(first) == 2 and first != second


@pytest.mark.django_db
def test_error_pages_carry_the_headers_too(world):
    response = world.client(MANDANT_A).get(reverse("police:home"))
    assert response.status_code == 403
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


PRODUCTION_PROBE = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in "
    "('DEBUG', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SECURE_SSL_REDIRECT', "
    "'DEV_MAILBOX', 'X_FRAME_OPTIONS', 'SECURE_CONTENT_TYPE_NOSNIFF')}))"
)


def test_production_settings_turn_on_https_hsts_and_secure_cookies(tmp_path):
    env = {
        **os.environ, "DEBUG": "false", "ALLOWED_HOSTS": "demarches.example", "VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-for-the-probe-0123456789",
    }
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRODUCTION_PROBE],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    prod = json.loads(result.stdout.strip().splitlines()[-1])
    assert prod["DEBUG"] is False
    assert prod["SECURE_HSTS_SECONDS"] >= 31536000
    assert prod["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and prod["SECURE_HSTS_PRELOAD"]
    assert prod["SESSION_COOKIE_SECURE"] and prod["CSRF_COOKIE_SECURE"] and prod["SESSION_COOKIE_HTTPONLY"]
    assert prod["SECURE_SSL_REDIRECT"] is True
    assert prod["DEV_MAILBOX"] is False
    assert prod["X_FRAME_OPTIONS"] == "DENY" and prod["SECURE_CONTENT_TYPE_NOSNIFF"]


@pytest.fixture
def production_like(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
def test_over_https_hsts_and_secure_cookies(world, production_like):
    from django.test import Client

    client = Client()  # a fresh handler: the SecurityMiddleware reads its settings when loaded
    # Plain HTTP is redirected to HTTPS.
    response = client.get(reverse("police:login"))
    assert response.status_code == 301 and response["Location"].startswith("https://")
    response = client.get(reverse("police:login"), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response.cookies["csrftoken"]["secure"]
    response = client.post(reverse("police:login"), {"login": "opj", "password": "mot-de-passe-de-test-42"},
                           secure=True)
    assert response.status_code == 302
    session = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


# ---------------------------------------------------------------- the policy built once per process
# procuration/csp.py: django-csp's middleware, its policy strings built once for the settings in force,
# the request's nonce put in (issue 16, docs/performance.md). Same header as django-csp builds.
@pytest.mark.django_db
@pytest.mark.parametrize("name", ["mandant:demande_validite", "mandant:home"])  # with a nonce, without one
def test_the_policy_is_the_one_django_csp_builds_for_the_response(world, name):
    from csp.utils import build_policy

    response = world.client(MANDANT_A).get(reverse(name))
    script_src = _csp(response)["script-src"]
    nonce = next((s[7:-1] for s in script_src if s.startswith("'nonce-")), None)
    assert (nonce is not None) == (name == "mandant:demande_validite")
    assert response["Content-Security-Policy"] == build_policy(nonce=nonce)
    assert "Content-Security-Policy-Report-Only" not in response  # none configured


@pytest.mark.django_db
def test_the_policy_is_built_once_not_at_every_response(world, monkeypatch):
    import csp.middleware
    import csp.utils

    from procuration import csp as product_csp

    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return csp.utils.build_policy(*args, **kwargs)

    monkeypatch.setattr(csp.middleware, "build_policy", counted)  # django-csp's own path
    monkeypatch.setattr(product_csp, "build_policy", counted)
    monkeypatch.setattr(product_csp.CSPMiddleware, "_cache", {})
    client = world.client(MANDANT_A)
    headers = [client.get(reverse("mandant:demande_validite"))["Content-Security-Policy"] for _ in range(5)]
    assert len(calls) == 4  # policy and report-only policy, each without and with the nonce: once
    assert len(set(headers)) == 5  # a new nonce each time


@pytest.mark.django_db
def test_a_response_with_its_own_policy_and_changed_settings_are_honoured(rf, settings):
    from django.http import HttpResponse

    from procuration.csp import CSPMiddleware

    middleware = CSPMiddleware(lambda request: HttpResponse("ok"))
    request = rf.get("/")
    middleware.process_request(request)
    response = HttpResponse("ok")
    response._csp_update = {"img-src": ["https://tuiles.example.fr"]}  # what @csp_update sets
    assert "img-src 'self' data: https://tuiles.example.fr" in middleware.process_response(request, response)[
        "Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    request = rf.get("/")
    middleware.process_request(request)
    assert middleware.process_response(request, HttpResponse("ok"))["Content-Security-Policy"] == "default-src 'none'"
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"img-src": ["'self'"]},
                                                    "EXCLUDE_URL_PREFIXES": ["/exclu/"]}
    request = rf.get("/")
    middleware.process_request(request)
    response = middleware.process_response(request, HttpResponse("ok"))
    from csp.utils import build_policy

    assert response["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
    assert sorted(response["Content-Security-Policy-Report-Only"].split("; ")) == ["default-src 'self'", "img-src 'self'"]
    request = rf.get("/exclu/page")
    middleware.process_request(request)
    assert "Content-Security-Policy-Report-Only" not in middleware.process_response(request, HttpResponse("ok"))
