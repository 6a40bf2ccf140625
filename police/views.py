from django.shortcuts import render

from procuration.access import portal_required
from procuration.views import PortalLoginView


class LoginView(PortalLoginView):
    portal = "police"


@portal_required("police")
def home(request):
    return render(request, "police/home.html")
