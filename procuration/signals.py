"""Signal receivers of the shared domain, connected in ProcurationConfig.ready()."""

from allauth.mfa.signals import authenticator_removed
from django.dispatch import receiver

from procuration.access import TOTP_CHECKED_SESSION_KEY


@receiver(authenticator_removed)
def forget_totp_check(sender, request, user, authenticator, **kwargs):
    """The staff member removed an authenticator: check for a TOTP again on the next request."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(TOTP_CHECKED_SESSION_KEY, None)
