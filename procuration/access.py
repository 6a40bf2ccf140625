"""Role checks at the door of every portal view."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from procuration.models import Role

PORTAL_ROLES = {
    "mandant": (Role.MANDANT,),
    "police": (Role.POLICIER,),
    "mairie": (Role.AGENT_MAIRIE,),
    "listes": (Role.AGENT_LISTES,),
}


def portal_required(portal: str, roles=None):
    """Anonymous visitors go to the portal's login page; other roles get 403."""
    allowed = tuple(roles or PORTAL_ROLES[portal])

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect(f"{reverse(portal + ':login')}?next={request.get_full_path()}")
            if not user.is_active or user.role not in allowed:
                raise PermissionDenied("Cet espace est réservé à un autre profil d'utilisateur.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
