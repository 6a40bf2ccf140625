"""« Certified » belongs to one login, not to the person: only a France Identité login at eIDAS
level 2 or higher certifies, in its own session, for IDENTITY_CERTIFICATION_MAX_AGE (20 minutes);
after that the mandant is asked to log in again. Through the real local OIDC providers."""

import datetime
import os
import subprocess
import sys

import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from procuration import identity, oidc_mock
from procuration.models import Procuration, Status
from procuration.models.procuration import Origine
from tests.mandant.conftest import MARIE, oidc_login, point_provider
from tests.mandant.test_demande import post_mandataire, post_validite

RECAP = {"email_contact": "marie.fc@example.fr", "attestation": "on"}


def fill_demande(client, scrutin):
    post_validite(client, scrutin)
    response = post_mandataire(client, mode="nne", nne="123456789", date_naissance_nne="1975-02-03")
    assert response.status_code == 302


def confirm(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("mandant:demande_recapitulatif"), RECAP, follow=True)


def test_a_france_identite_login_elsewhere_does_not_certify_this_franceconnect_session(
    oidc_provider, mandant_electeur, scrutin, mandataire, django_capture_on_commit_callbacks
):
    """The same person: a plain FranceConnect session, then a France Identité login in another
    browser. The FranceConnect session stays uncertified: its demande waits for the counter."""
    plain, certified = Client(), Client()
    oidc_login(plain, "franceconnect", "fc-marie")
    oidc_login(certified, "franceidentite", "fc-marie")
    fill_demande(plain, scrutin)
    html = plain.get(reverse("mandant:demande_recapitulatif")).content.decode()
    assert "sans passage au commissariat" not in html
    confirm(plain, django_capture_on_commit_callbacks)
    p = Procuration.objects.get()
    assert p.status == Status.EN_ATTENTE and p.origine != Origine.FRANCE_IDENTITE
    assert "Identité certifiée France Identité" in certified.get(reverse("mandant:home")).content.decode()
    assert "Identité certifiée France Identité" not in plain.get(reverse("mandant:home")).content.decode()


def test_a_franceconnect_login_after_france_identite_drops_the_certification(
    client, oidc_provider, mandant_electeur, scrutin, mandataire, django_capture_on_commit_callbacks
):
    oidc_login(client, "franceidentite", "fc-marie")
    oidc_login(client, "franceconnect", "fc-marie")  # same browser, a new (plain) login
    fill_demande(client, scrutin)
    confirm(client, django_capture_on_commit_callbacks)
    assert Procuration.objects.get().status == Status.EN_ATTENTE


def test_france_identite_below_eidas2_does_not_certify(
    client, settings, mandant_electeur, scrutin, mandataire, django_capture_on_commit_callbacks
):
    with oidc_mock.serve([{**MARIE, "acr": "eidas1"}]) as url:
        point_provider(settings, "franceidentite", url)
        oidc_login(client, "franceidentite", "fc-marie")
    assert client.session.get(identity.SESSION_KEY) is None
    fill_demande(client, scrutin)
    confirm(client, django_capture_on_commit_callbacks)
    assert Procuration.objects.get().status == Status.EN_ATTENTE


def test_an_old_certification_is_asked_again(
    client, oidc_provider, mandant_electeur, scrutin, mandataire, mailoutbox, django_capture_on_commit_callbacks
):
    assert django_settings.IDENTITY_CERTIFICATION_MAX_AGE == 20 * 60
    oidc_login(client, "franceidentite", "fc-marie")
    fill_demande(client, scrutin)
    later = timezone.now() + datetime.timedelta(minutes=21)
    with time_machine.travel(later, tick=False):
        html = client.get(reverse("mandant:demande_recapitulatif")).content.decode()
        assert "Reconnectez-vous avec France Identité" in html
        assert "date de plus de 20 minutes" in html and 'id="franceidentite-relogin"' in html
        response = confirm(client, django_capture_on_commit_callbacks)
        assert "date de plus de 20 minutes" in response.content.decode()
        assert not Procuration.objects.exists() and not mailoutbox
    # Logging in again with France Identité certifies anew; the demande typed is still there.
    with time_machine.travel(later, tick=True):
        oidc_login(client, "franceidentite", "fc-marie")
        response = confirm(client, django_capture_on_commit_callbacks)
    p = Procuration.objects.get()
    assert p.status == Status.VALIDEE_AUTORITE and p.origine == Origine.FRANCE_IDENTITE
    assert "Procuration validée grâce à France Identité" in response.content.decode()


def test_certification_within_the_window_counts(client, oidc_provider, mandant_electeur, scrutin, mandataire,
                                                django_capture_on_commit_callbacks):
    oidc_login(client, "franceidentite", "fc-marie")
    fill_demande(client, scrutin)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=19), tick=False):
        response = confirm(client, django_capture_on_commit_callbacks)
    assert Procuration.objects.get().status == Status.VALIDEE_AUTORITE
    assert "Procuration validée grâce à France Identité" in response.content.decode()


# ------------------------------------------------------------------ configuration
def test_without_its_url_france_identite_is_not_configured_nor_offered(client, settings, db):
    """Never the FranceConnect URL by default: without OIDC_FRANCEIDENTITE_URL no app, no button."""
    env = {k: v for k, v in os.environ.items() if k != "OIDC_FRANCEIDENTITE_URL"}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(sorted(a['provider_id'] for a in s.SOCIALACCOUNT_PROVIDERS['openid_connect']['APPS']), "
        "s.OIDC_FRANCECONNECT_URL in s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'], "
        "len(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
    )
    out = subprocess.run([sys.executable, "-c", code], env={**env, "DJANGO_SETTINGS_MODULE": "procuration.settings"},
                         capture_output=True, text=True, check=True, cwd=django_settings.BASE_DIR).stdout
    assert out.split() == ["['franceconnect']", "True", "2"]

    html = client.get(reverse("mandant:login")).content.decode()
    assert 'id="franceidentite-login"' in html  # configured here (scripts/test.sh sets the URL)
    providers = {**settings.SOCIALACCOUNT_PROVIDERS}
    providers["openid_connect"] = {
        **providers["openid_connect"],
        "APPS": [a for a in providers["openid_connect"]["APPS"] if a["provider_id"] != "franceidentite"],
    }
    settings.SOCIALACCOUNT_PROVIDERS = providers
    html = client.get(reverse("mandant:login")).content.decode()
    assert 'id="franceconnect-login"' in html and 'id="franceidentite-login"' not in html


def test_each_provider_is_asked_its_eidas_level(client, db, oidc_provider):
    from urllib.parse import parse_qs, urlparse

    for provider_id, acr in (("franceconnect", "eidas1"), ("franceidentite", "eidas2")):
        response = client.post(reverse("openid_connect_login", kwargs={"provider_id": provider_id}))
        assert parse_qs(urlparse(response["Location"]).query)["acr_values"] == [acr]


def test_certified_france_identite_login_resiliates_an_established_procuration_at_once(
    client, oidc_provider, mandant_electeur, mandataire, mailoutbox, django_capture_on_commit_callbacks
):
    """L.75, fully online: the identity checked by France Identité, the résiliation takes effect."""
    from procuration.models import User
    from tests.factories import ProcurationFactory

    oidc_login(client, "franceidentite", "fc-marie")
    user = User.objects.get(pk=client.session["_auth_user_id"])
    p = ProcurationFactory(validee_mairie=True, mandant=mandant_electeur, mandant_user=user, mandataire=mandataire,
                           email_contact="marie@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mandant:resilier", args=[p.pk]), follow=True)
    p.refresh_from_db()
    assert p.status == Status.RESILIEE
    assert "est résiliée" in response.content.decode()
    assert "France Identité" in p.events.last().reason
    assert {m.to[0] for m in mailoutbox} == {"marie@example.fr", p.commune.email_service}
