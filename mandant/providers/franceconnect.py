"""OpenID Connect with a nonce, as FranceConnect requires.

allauth's generic ``openid_connect`` provider sends no nonce. This subclass (registered through
``SOCIALACCOUNT_PROVIDERS["openid_connect"]["provider_class"]``) adds a fresh random nonce to
each authorization request and keeps it in allauth's login state (stored in the session); on
the callback :func:`check_nonce` compares it with the ``nonce`` claim of the id_token. A missing
or different nonce refuses the login (see procuration.adapters.SocialAccountAdapter).

The same class serves both apps, "franceconnect" and "franceidentite"; the latter certifies
the identity (CERTIFIED_PROVIDER_IDS).
"""

import hmac
import secrets

from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider

CERTIFIED_PROVIDER_IDS = frozenset({"franceidentite"})


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
        # Extra keyword arguments end up in the stashed state, read back on the callback.
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs)


def check_nonce(sociallogin) -> None:
    """Raise NonceError unless the id_token's nonce equals the one stashed at redirect."""
    expected = (sociallogin.state or {}).get("nonce")
    id_token = (sociallogin.account.extra_data or {}).get("id_token") or {}
    received = id_token.get("nonce")
    if not expected or not isinstance(received, str) or not hmac.compare_digest(expected, received):
        raise NonceError("nonce mismatch")


def claims(sociallogin) -> dict:
    """The identity claims: userinfo first, completed by the id_token."""
    extra = sociallogin.account.extra_data or {}
    return {**(extra.get("id_token") or {}), **(extra.get("userinfo") or {})}


GENDERS = {"female": "F", "male": "M", "f": "F", "m": "M"}
IDENTITY_FIELDS = [
    "first_name", "last_name", "email", "birthdate", "gender", "birthplace", "birthcountry",
    "identity_provider", "identity_certified",
]


def apply_identity(user, data: dict, provider_id: str) -> list[str]:
    """Copy the identity claims onto the user (refreshed at every login); returns the fields."""
    import datetime

    user.first_name = (data.get("given_name") or "").strip()[:150]
    user.last_name = (data.get("family_name") or "").strip()[:150]
    if data.get("email"):
        user.email = data["email"].strip()
    try:
        user.birthdate = datetime.date.fromisoformat(str(data.get("birthdate") or ""))
    except ValueError:
        user.birthdate = None
    user.gender = GENDERS.get(str(data.get("gender") or "").lower(), "")
    user.birthplace = str(data.get("birthplace") or "")[:5]
    user.birthcountry = str(data.get("birthcountry") or "")[:5]
    user.identity_provider = provider_id[:30]
    user.identity_certified = provider_id in CERTIFIED_PROVIDER_IDS
    return IDENTITY_FIELDS
