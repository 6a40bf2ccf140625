"""Role checks at the door of every portal view."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from procuration.models import Role

PORTAL_ROLES = {
    "mandant": (Role.MANDANT,),
    "police": (Role.POLICIER,),
    "mairie": (Role.AGENT_MAIRIE,),
    "listes": (Role.AGENT_LISTES,),
    "backoffice": (Role.ADMIN_NATIONAL,),  # the national back office (backoffice/)
}
# Staff of these roles must have a TOTP authenticator (allauth MFA) before they may act.
MFA_ROLES = frozenset({Role.POLICIER, Role.AGENT_MAIRIE, Role.AGENT_LISTES, Role.ADMIN_NATIONAL})
# Once the check has passed, the session remembers it (for this user) instead of asking the
# database on every request; removing an authenticator in the session drops the mark
# (procuration/signals.py), so the next request checks again.
TOTP_CHECKED_SESSION_KEY = "staff_totp_checked"


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    return is_mfa_enabled(user, types=[Authenticator.Type.TOTP])


def staff_has_totp(request) -> bool:
    """has_totp(request.user), remembered in the session once true."""
    user = request.user
    if request.session.get(TOTP_CHECKED_SESSION_KEY) == user.pk:
        return True
    if not has_totp(user):
        return False
    request.session[TOTP_CHECKED_SESSION_KEY] = user.pk
    return True


def portal_required(portal: str, roles=None):
    """Anonymous visitors go to the portal's login page; other roles get 403; staff without
    TOTP are sent to set it up first."""
    allowed = tuple(roles or PORTAL_ROLES[portal])

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect(f"{reverse(portal + ':login')}?next={request.get_full_path()}")
            if not user.is_active or user.role not in allowed:
                raise PermissionDenied("Cet espace est réservé à un autre profil d'utilisateur.")
            if user.role in MFA_ROLES and settings.MFA_REQUIRED_FOR_STAFF and not staff_has_totp(request):
                messages.warning(
                    request,
                    "La double authentification est obligatoire : configurez votre application d'authentification.",
                )
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
