"""Role checks at the door of every portal view, and the one kind of login of each role.

Doors by kind of user (docs/security.md, « Doors and proofs of identity »):

- electors (role mandant) prove who they are with FranceConnect or France Identité only (OpenID
  Connect). Their account has no usable password; a session they did not open through OpenID
  Connect is refused everywhere (procuration/auth.py) and at every door below.
- staff (police, mairie, guichet de suivi) and the national administrator log in with a password
  and a TOTP code; they never use OpenID Connect.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, logout
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from procuration.models import Role

PORTAL_ROLES = {
    "mandant": (Role.MANDANT,),
    "police": (Role.POLICIER,),
    "mairie": (Role.AGENT_MAIRIE,),
    "listes": (Role.AGENT_LISTES,),
    "admin": (Role.ADMIN_NATIONAL,),  # /admin/ (procuration/admin_site.py)
    "backoffice": (Role.ADMIN_NATIONAL,),  # the national back office (backoffice/)
}
# How each role proves who it is: one kind of login per kind of user.
OIDC_ROLES = frozenset({Role.MANDANT})  # FranceConnect / France Identité
PASSWORD_ROLES = frozenset({Role.POLICIER, Role.AGENT_MAIRIE, Role.AGENT_LISTES, Role.ADMIN_NATIONAL})
# The authentication backend a session was opened with records its kind of login (Django keeps
# its path in the session and asks that backend for the user on every request).
OIDC_BACKEND = "procuration.auth.OIDCBackend"
# Staff of these roles must have a TOTP authenticator (allauth MFA) before they may act.
MFA_ROLES = frozenset({Role.POLICIER, Role.AGENT_MAIRIE, Role.AGENT_LISTES, Role.ADMIN_NATIONAL})
# Once the check has passed, the session remembers it (for this user) instead of asking the
# database on every request; removing an authenticator in the session drops the mark
# (procuration/signals.py), so the next request checks again.
TOTP_CHECKED_SESSION_KEY = "staff_totp_checked"
WRONG_LOGIN_KIND = {
    True: "Les électeurs se connectent uniquement avec FranceConnect ou France Identité : veuillez vous reconnecter.",
    False: "Cet espace exige une connexion par identifiant, mot de passe et code de double authentification : "
    "veuillez vous reconnecter.",
}


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


def logs_in_with_oidc(user) -> bool:
    return user.role in OIDC_ROLES


def logs_in_with_password(user) -> bool:
    return user.role in PASSWORD_ROLES


def may_reset_password_by_email(user) -> bool:
    """Staff of the portals only. Never an elector (no password at all), never the national
    administrator (another national administrator resets it, or `manage.py changepassword`)."""
    return logs_in_with_password(user) and user.role != Role.ADMIN_NATIONAL and not (
        user.is_staff or user.is_superuser
    )


def logged_in_as_designed(request) -> bool:
    """The session was opened by the one kind of login of the user's role."""
    by_oidc = request.session.get(BACKEND_SESSION_KEY) == OIDC_BACKEND
    return by_oidc if logs_in_with_oidc(request.user) else (not by_oidc and logs_in_with_password(request.user))


def staff_only(view):
    """allauth's pages for staff (password change, TOTP, reauthentication): a logged-in elector
    gets 404, as if the page did not exist; anonymous visitors go on to allauth (its login)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not logs_in_with_password(user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def portal_required(portal: str, roles=None):
    """Anonymous visitors go to the portal's login page; other roles get 403; a session not
    opened by the role's kind of login is closed and sent to the login page; staff without
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
            if not logged_in_as_designed(request):
                logout(request)
                messages.error(request, WRONG_LOGIN_KIND[logs_in_with_oidc(user)])
                return redirect(f"{reverse(portal + ':login')}?next={request.get_full_path()}")
            if user.role in MFA_ROLES and settings.MFA_REQUIRED_FOR_STAFF and not staff_has_totp(request):
                messages.warning(
                    request,
                    "La double authentification est obligatoire : configurez votre application d'authentification.",
                )
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.get_full_path()}")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
