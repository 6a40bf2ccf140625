"""The production URLconf plus /bench/nu/<nne>/: a bare view doing one indexed SELECT (Electeur by
NNE, unique index) through the same middleware stack, as the ceiling of the load benchmark."""

from django.http import HttpResponse
from django.urls import path

from procuration.models import Electeur
from procuration.urls import urlpatterns as production_urlpatterns


def bare(request, nne):
    nom = Electeur.objects.filter(nne=nne).values_list("nom", flat=True).first()
    return HttpResponse(nom or "-", content_type="text/plain; charset=utf-8")


urlpatterns = [path("bench/nu/<str:nne>/", bare), *production_urlpatterns]
