import copy
import datetime
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import pytest
import requests
from django.urls import reverse

from procuration import oidc_mock
from tests.factories import ElecteurFactory, ScrutinFactory

MARIE = oidc_mock.user_claims(
    "fc-marie", "Dupont", "Marie Claire", "F", datetime.date(1980, 5, 12), "81004", "marie.fc@example.fr"
)
INCONNU = oidc_mock.user_claims(
    "fc-inconnu", "Nemo", "Jules", "M", datetime.date(1970, 1, 1), "75056", "jules.nemo@example.fr"
)


@pytest.fixture
def oidc_provider(settings):
    """The real oidc-provider-mock (nonce required) on a free loopback port; both apps point at it."""
    with oidc_mock.serve([MARIE, INCONNU]) as url:
        providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
        for app in providers["openid_connect"]["APPS"]:
            app["settings"]["server_url"] = url
        settings.SOCIALACCOUNT_PROVIDERS = providers
        csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        csp["DIRECTIVES"]["form-action"] = [*csp["DIRECTIVES"]["form-action"], url]
        settings.CONTENT_SECURITY_POLICY = csp
        yield url


def oidc_login(client, provider_id: str, sub: str, tamper_nonce: bool = False):
    """Drive the authorization code flow with Django's test client and the real provider."""
    response = client.post(reverse("openid_connect_login", kwargs={"provider_id": provider_id}))
    assert response.status_code == 302, response.content[:500]
    authorize_url = response["Location"]
    query = dict(parse_qsl(urlparse(authorize_url).query))
    assert query.get("nonce"), "the authorization request carries a nonce"
    if tamper_nonce:
        query["nonce"] = "not-the-nonce-we-sent"
        authorize_url = urlunparse(urlparse(authorize_url)._replace(query=urlencode(query)))
    answer = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text[:500]
    callback = urlparse(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}", follow=True)


@pytest.fixture
def scrutin(db):
    return ScrutinFactory(libelle="Municipales de test")


@pytest.fixture
def mandataire(commune):
    return ElecteurFactory(nne="123456789", nom="LAMBERT", prenoms="Paul", sexe="M",
                           date_naissance=datetime.date(1975, 2, 3), commune=commune)
