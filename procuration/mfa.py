"""TOTP helpers shared by the development page and the tests."""

import time


def current_totp_code(secret: str) -> str:
    """The code an authenticator app shows right now for this secret."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))
