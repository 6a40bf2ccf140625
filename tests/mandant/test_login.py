"""FranceConnect / France Identité login through the real local OIDC provider."""

from html import unescape

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.urls import reverse

from procuration import identity
from procuration.access import OIDC_BACKEND
from tests.mandant.conftest import oidc_login

User = get_user_model()


def test_franceconnect_login_maps_claims_and_matches_the_elector(client, oidc_provider, mandant_electeur):
    response = oidc_login(client, "franceconnect", "fc-marie")
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("mandant:home")
    user = User.objects.get(socialaccount__uid="fc-marie")
    assert (user.role, user.first_name, user.last_name) == ("mandant", "Marie Claire", "Dupont")
    assert str(user.birthdate) == "1980-05-12" and user.gender == "F" and user.birthplace == "81004"
    assert user.birthcountry == "99100" and user.email == "marie.fc@example.fr"
    assert user.identity_provider == "franceconnect" and identity.SESSION_KEY not in client.session
    # The session records an OpenID Connect login; the account has no usable password.
    assert client.session[BACKEND_SESSION_KEY] == OIDC_BACKEND
    assert not user.has_usable_password()
    html = unescape(response.content.decode())
    assert "Vous êtes inscrit(e) sur la liste électorale d'Almayrac" in html
    assert "Faire une nouvelle demande" in html


def test_france_identite_login_certifies_and_each_login_refreshes(client, oidc_provider, mandant_electeur):
    oidc_login(client, "franceidentite", "fc-marie")
    user = User.objects.get(socialaccount__uid="fc-marie")
    assert user.identity_provider == "franceidentite"
    # The certification is the login's, kept in its session (provider and eIDAS level).
    record = client.session[identity.SESSION_KEY]
    assert (record["provider"], record["acr"], record["user"]) == ("franceidentite", "eidas2", user.pk)
    client.logout()
    oidc_login(client, "franceconnect", "fc-marie")
    # The same person through the other provider: the same user (identité pivot), refreshed.
    user.refresh_from_db()
    assert set(user.socialaccount_set.values_list("provider", flat=True)) == {"franceconnect", "franceidentite"}
    assert User.objects.filter(role="mandant").count() == 1
    assert user.identity_provider == "franceconnect" and identity.SESSION_KEY not in client.session


def test_nonce_mismatch_refuses_login(client, oidc_provider, mandant_electeur):
    response = oidc_login(client, "franceconnect", "fc-marie", tamper_nonce=True)
    assert not response.wsgi_request.user.is_authenticated
    assert not User.objects.filter(socialaccount__uid="fc-marie").exists()
    assert "La connexion a été refusée" in response.content.decode()


def test_unknown_elector_gets_an_explanation(client, oidc_provider, mandant_electeur):
    response = oidc_login(client, "franceconnect", "fc-inconnu")
    assert response.wsgi_request.user.is_authenticated
    assert "Nous ne vous trouvons pas sur les listes électorales" in response.content.decode()
    page = client.get(reverse("mandant:demande"), follow=True)
    html = page.content.decode()
    assert "Aucun électeur inscrit ne correspond à votre identité" in html
    assert "Vérifiez votre situation électorale" in html
    assert reverse("listes:usager_home") in html


def test_login_page_offers_both_providers(client, db):
    html = client.get(reverse("mandant:login")).content.decode()
    assert 'id="franceconnect-login"' in html and 'id="franceidentite-login"' in html


def test_cancelled_login_shows_a_dsfr_page(client, db, oidc_provider):
    from urllib.parse import urlparse

    import requests

    response = client.post(reverse("openid_connect_login", kwargs={"provider_id": "franceconnect"}))
    answer = requests.post(response["Location"], data={"action": "deny"}, allow_redirects=False, timeout=10)
    callback = urlparse(answer.headers["Location"])
    page = client.get(f"{callback.path}?{callback.query}")
    assert "error=access_denied" in callback.query
    html = page.content.decode()
    # With the state echoed back allauth shows "login cancelled"; the mock's deny form drops the
    # state, so allauth shows its authentication error page: both are dressed in DSFR.
    assert "Connexion annulée" in html or "La connexion n'a pas abouti" in html
    assert not page.wsgi_request.user.is_authenticated


def test_callback_without_state_is_an_error_page(client, db, oidc_provider):
    page = client.get(reverse("openid_connect_callback", kwargs={"provider_id": "franceconnect"}),
                      {"code": "x", "state": "forged"})
    assert "La connexion n'a pas abouti" in page.content.decode()
    assert not page.wsgi_request.user.is_authenticated
