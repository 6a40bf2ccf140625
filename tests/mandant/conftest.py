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
# Homonyms born abroad (no birthplace, FranceConnect gives only the country): same names, day and
# sex; AMINA_MAROC and AMINA_MAROC_BIS are even born in the same country.
_AMINA = ("Benali", "Amina", "F", datetime.date(1985, 3, 4), "")
AMINA_MAROC = oidc_mock.user_claims("fc-amina-ma", *_AMINA, "amina.1@example.fr", birthcountry="99350")
AMINA_ALGERIE = oidc_mock.user_claims("fc-amina-dz", *_AMINA, "amina.2@example.fr", birthcountry="99352")
AMINA_MAROC_BIS = oidc_mock.user_claims("fc-amina-ma-bis", *_AMINA, "amina.3@example.fr", birthcountry="99350")
# Homonyms born in France, in two communes.
_LOUIS = ("Martin", "Louis Henri", "M", datetime.date(1990, 1, 1))
LOUIS_ALBI = oidc_mock.user_claims("fc-louis-albi", *_LOUIS, "81004", "louis.1@example.fr")
LOUIS_PARIS = oidc_mock.user_claims("fc-louis-paris", *_LOUIS, "75056", "louis.2@example.fr")
# Marie's pivot without the country of birth: a missing field never matches.
MARIE_SANS_PAYS = {**oidc_mock.user_claims(
    "sans-pays-marie", "Dupont", "Marie Claire", "F", datetime.date(1980, 5, 12), "81004", "m2@example.fr"
), "birthcountry": ""}
IDENTITIES = [MARIE, INCONNU, AMINA_MAROC, AMINA_ALGERIE, AMINA_MAROC_BIS, LOUIS_ALBI, LOUIS_PARIS, MARIE_SANS_PAYS]


def point_provider(settings, provider_id: str, url: str) -> None:
    """Point one OpenID Connect app of the settings at `url` (and let the CSP allow the form post)."""
    providers = copy.deepcopy(settings.SOCIALACCOUNT_PROVIDERS)
    apps = providers["openid_connect"]["APPS"]
    app = next((a for a in apps if a["provider_id"] == provider_id), None)
    if app is None:  # France Identité without OIDC_FRANCEIDENTITE_URL: configure it like production would
        app = {**copy.deepcopy(apps[0]), "provider_id": provider_id, "name": provider_id,
               "client_id": f"{provider_id}-test", "secret": "test"}
        app["settings"]["acr_values"] = "eidas2"
        apps.append(app)
    app["settings"]["server_url"] = url
    settings.SOCIALACCOUNT_PROVIDERS = providers
    csp = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    csp["DIRECTIVES"]["form-action"] = [*csp["DIRECTIVES"]["form-action"], url]
    settings.CONTENT_SECURITY_POLICY = csp


@pytest.fixture
def oidc_provider(settings):
    """The real oidc-provider-mock (nonce required) on free loopback ports: one server plays
    FranceConnect (acr eidas1), another France Identité (acr eidas2), with the same identities."""
    france_identite = [{**u, "acr": "eidas2"} for u in IDENTITIES]
    with oidc_mock.serve(IDENTITIES) as fc_url, oidc_mock.serve(france_identite) as fi_url:
        point_provider(settings, "franceconnect", fc_url)
        point_provider(settings, "franceidentite", fi_url)
        yield fc_url


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
