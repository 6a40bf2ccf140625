from django.urls import path

from police import views

app_name = "police"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("procuration/<str:jeton>/", views.procuration, name="procuration"),
    path("cerfa/", views.cerfa, name="cerfa"),
    path("historique/", views.historique, name="historique"),
    path("actes/<int:procuration_pk>/", views.acte, name="acte"),
    path("actes/<int:procuration_pk>/recepisse.pdf", views.acte_recepisse, name="acte_recepisse"),
    path("unite/", views.unite, name="unite"),
    path("unite/<int:pk>/activation/", views.unite_activation, name="unite_activation"),
    path("unite/<int:pk>/reinitialiser/", views.unite_reset, name="unite_reset"),
]
