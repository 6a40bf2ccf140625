from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from procuration.access import portal_required


def login(request):
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return render(request, "mandant/login.html", {"next_url": next_url})


@portal_required("mandant")
def home(request):
    return render(request, "mandant/home.html")
