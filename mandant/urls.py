from django.urls import path

from mandant import views

app_name = "mandant"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.login, name="login"),
    path("demande/", views.demande_start, name="demande"),
    path("demande/validite/", views.demande_validite, name="demande_validite"),
    path("demande/mandataire/", views.demande_mandataire, name="demande_mandataire"),
    path("demande/verifier-mandataire/", views.verifier_mandataire, name="verifier_mandataire"),
    path("demande/recapitulatif/", views.demande_recapitulatif, name="demande_recapitulatif"),
    path("procurations/<int:pk>/", views.detail, name="detail"),
    path("procurations/<int:pk>/confirmation/", views.confirmation, name="confirmation"),
    path("procurations/<int:pk>/recepisse.pdf", views.recepisse, name="recepisse"),
    path("procurations/<int:pk>/resilier/", views.resilier, name="resilier"),
    path("confiees/", views.confiees, name="confiees"),
    path("confiees/<int:pk>/", views.confiee, name="confiee"),
]
