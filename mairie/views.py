from django.shortcuts import render

from procuration.access import portal_required
from procuration.views import PortalLoginView


class LoginView(PortalLoginView):
    portal = "mairie"


@portal_required("mairie")
def home(request):
    return render(request, "mairie/home.html")
