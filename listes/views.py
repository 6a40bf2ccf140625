from django.shortcuts import render

from procuration.access import portal_required
from procuration.models import Role
from procuration.views import PortalLoginView


class LoginView(PortalLoginView):
    portal = "listes"


@portal_required("listes")
def home(request):
    """Guichet de suivi (agents listes of one commune)."""
    return render(request, "listes/home.html")


@portal_required("mandant", roles=[Role.MANDANT])
def usager_home(request):
    """Espace personnel of the usager (FranceConnect)."""
    return render(request, "listes/usager_home.html")
