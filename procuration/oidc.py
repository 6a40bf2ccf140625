"""OpenID Connect with a nonce, as FranceConnect requires.

allauth's generic ``openid_connect`` provider sends no nonce. This subclass (registered through
``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``) adds a fresh random nonce to
each authorization request and keeps it in allauth's login state (stored in the session); on
the callback :func:`check_nonce` compares it with the ``nonce`` claim of the id_token. A missing
or different nonce refuses the login (see procuration.adapters.SocialAccountAdapter).

The same class serves both apps, "franceconnect" and "franceidentite". An app's settings may
name the eIDAS level to ask for (``"acr_values": "eidas2"`` for France Identité); what a login
certifies is decided from the id_token's ``acr`` by procuration.identity.
"""

import hmac
import secrets

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider


class NonceError(Exception):
    """The id_token does not carry the nonce sent with the authorization request."""


class FranceConnectProvider(OpenIDConnectProvider):
    # Reuse allauth's openid_connect URLs and views (login/callback per provider_id).
    package = "allauth.socialaccount.providers.openid_connect"

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(32)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        acr_values = (self.app.settings or {}).get("acr_values")
        if acr_values:
            auth_params["acr_values"] = acr_values
        # Extra keyword arguments end up in the stashed state, read back on the callback.
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


def check_nonce(sociallogin) -> None:
    """Raise NonceError unless the id_token's nonce equals the one stashed at redirect."""
    expected = (sociallogin.state or {}).get("nonce")
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    received = id_token.get("nonce")
    if not expected or not isinstance(received, str) or not hmac.compare_digest(expected, received):
        raise NonceError("nonce mismatch")


def id_token(sociallogin) -> dict:
    """The id_token's claims (signed by the provider, checked by allauth)."""
    return (sociallogin.account.extra_data or {}).get("id_token") or {}


def claims(sociallogin) -> dict:
    """The identity claims: userinfo first, completed by the id_token."""
    extra = sociallogin.account.extra_data or {}
    return {**(extra.get("id_token") or {}), **(extra.get("userinfo") or {})}
