"""TOTP helpers, and the failed-login counters per known device.

A device is known for an account once it completed a password + TOTP login for it: the browser
then holds a signed cookie naming that device and those accounts. Failed logins (password or
TOTP) are counted per account, and separately per (account, known device): an attacker who keeps
failing on an account from elsewhere fills the account's counter, not the owner's, so the owner
still logs in from their usual device (docs/security.md, "Limites de tentatives").
"""

import secrets
import time

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base.forms import AuthenticateForm as BaseAuthenticateForm
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import signing

KNOWN_DEVICE_COOKIE = "appareil_connu"
KNOWN_DEVICE_SALT = "procuration.known-device"
MAX_ACCOUNTS_PER_DEVICE = 20


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows right now for this secret."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def _read_device(request) -> dict | None:
    raw = request.COOKIES.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=KNOWN_DEVICE_SALT, max_age=settings.KNOWN_DEVICE_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("u"), list):
        return None
    return data


def known_device(request, user_pk) -> str:
    """The id of this browser if it already completed a TOTP login for the account user_pk, else ""."""
    data = _read_device(request)
    if data is None or user_pk is None or user_pk not in data["u"]:
        return ""
    return data["d"]


def remember_device(request, response, user) -> None:
    """After a complete login (password + TOTP): this browser is known for this account."""
    data = _read_device(request) or {"d": secrets.token_urlsafe(16), "u": []}
    accounts = [pk for pk in data["u"] if pk != user.pk][-(MAX_ACCOUNTS_PER_DEVICE - 1):] + [user.pk]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        signing.dumps({"d": data["d"], "u": accounts}, salt=KNOWN_DEVICE_SALT),
        max_age=settings.KNOWN_DEVICE_MAX_AGE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def failure_key(base: str, request, user_pk) -> str:
    """The key of an account's failed-login counter, per known device when this browser is one."""
    device = known_device(request, user_pk)
    return f"{base}:appareil:{device}" if device else base


class AuthenticateForm(BaseAuthenticateForm):
    """allauth's TOTP step, with the failure counter per (account, known device) and a success that
    gives back only its own attempt (allauth's clears the whole counter, the per-address one too)."""

    def clean_code(self) -> str:
        request = context.request
        key = failure_key(f"mfa-auth-user-{self.user.pk}", request, self.user.pk)
        usage = ratelimit.consume(request, app="allauth.account", action="login_failed", key=key)
        if not usage:
            raise get_account_adapter().validation_error("too_many_login_attempts")
        code = self.cleaned_data["code"]
        main_auth = None
        for auth in Authenticator.objects.filter(user=self.user).exclude(type=Authenticator.Type.WEBAUTHN):
            if not main_auth or auth.type == Authenticator.Type.TOTP:
                main_auth = auth
            if auth.wrap().validate_code(code):
                auth.user = self.user
                self.authenticator = auth
                usage.rollback()
                return code
        if main_auth:
            self._emit_authentication_failed(main_auth)
        raise get_adapter().validation_error("incorrect_code")
