"""Signal receivers of the shared domain, connected in ProcurationConfig.ready()."""

from allauth.mfa.signals import authenticator_removed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from dsfr.models import DsfrConfig

from procuration.access import TOTP_CHECKED_SESSION_KEY
from procuration.context_processors import forget_site_config


@receiver(authenticator_removed)
def forget_totp_check(sender, request, user, authenticator, **kwargs):
    """The staff member removed an authenticator: check for a TOTP again on the next request."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(TOTP_CHECKED_SESSION_KEY, None)


@receiver([post_save, post_delete], sender=DsfrConfig)
def site_config_changed(sender, **kwargs):
    forget_site_config()
