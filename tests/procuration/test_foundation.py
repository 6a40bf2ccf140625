import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from procuration import emails
from procuration.models import OutboxEmail
from tests.factories import ProcurationFactory

PORTAL_LOGINS = {
    "mandant:login": "Connexion — espace électeur",
    "police:login": "Connexion — Procurations — Espace police et gendarmerie",
    "mairie:login": "Connexion — Procurations — Espace mairie",
    "listes:login": "Connexion — Listes électorales et recensement citoyen",
}


def test_runs_on_postgresql(db):
    assert connection.vendor == "postgresql", "scripts/test.sh runs the suite against PostgreSQL"


@pytest.mark.browser
def test_landing_and_each_portal_login_page_in_chromium(live_server, page):
    page.goto(live_server.url + "/")
    page.screenshot(path=os.path.join(os.environ.get("SCREENSHOT_DIR", "/tmp"), "landing.png"))
    assert page.locator("h1").inner_text() == "Démarches électorales"
    assert page.get_by_role("link", name="Donner procuration").is_visible()
    for name, heading in PORTAL_LOGINS.items():
        page.goto(live_server.url + reverse(name))
        assert page.locator("h1").inner_text() == heading
    # The DSFR stylesheet is applied: the header uses the DSFR layout and the Marianne font.
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Marianne" in font
    # DSFR's primary button is "bleu France" (#000091), which only its stylesheet gives.
    assert page.evaluate("getComputedStyle(document.querySelector('main button.fr-btn')).backgroundColor") == "rgb(0, 0, 145)"


def test_dsfr_assets_are_served_from_static_not_a_cdn(client):
    html = client.get("/").content.decode()
    assets = re.findall(r'(?:href|src)="([^"]+\.(?:css|js))"', html)
    assert any("dsfr.min.css" in a for a in assets)
    assert any("dsfr.module.min.js" in a for a in assets)
    for url in assets:
        assert url.startswith(settings.STATIC_URL), f"{url} is not served from our static files"
    css = client.get(next(a for a in assets if "dsfr.min.css" in a))
    assert css.status_code == 200
    assert b".fr-header" in b"".join(css.streaming_content if css.streaming else [css.content])


@pytest.mark.django_db(transaction=True)
def test_celery_task_runs_in_a_real_worker_and_sends_over_smtp(celery_worker, smtp_sink):
    assert connection.vendor == "postgresql"
    p = ProcurationFactory(en_attente=True, reference="ABC234", email_contact="marie@example.fr")
    with transaction.atomic():
        message = emails.reference_issued(p)
        assert message.state == OutboxEmail.State.PENDING
    received = smtp_sink.wait_for(1)
    assert len(received) == 1
    assert received[0]["To"] == "marie@example.fr"
    assert "ABC234" in received[0]["Subject"]
    # The worker marked the row sent, in PostgreSQL.
    for _ in range(100):
        message.refresh_from_db()
        if message.state == OutboxEmail.State.SENT:
            break
        import time

        time.sleep(0.05)
    assert message.state == OutboxEmail.State.SENT
    assert message.attempts == 1


def test_role_is_checked_at_each_portal_door(client, mandant_user, policier):
    response = client.get(reverse("police:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("police:login"))
    client.force_login(mandant_user)
    for name in ("police:home", "mairie:home", "listes:home"):
        assert client.get(reverse(name)).status_code == 403
    client.force_login(policier)
    assert client.get(reverse("police:home")).status_code == 200
    assert client.get(reverse("mandant:home")).status_code == 403


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-for-the-check-0123456789",
        "ALLOWED_HOSTS": "demarches.example",
        "VAR_DIR": str(tmp_path),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright's live server only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
