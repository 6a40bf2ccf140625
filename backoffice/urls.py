from django.urls import path

from backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("communes/", views.communes, name="communes"),
    path("communes/nouvelle/", views.commune_new, name="commune_new"),
    path("communes/<int:commune_pk>/", views.commune, name="commune"),
    path("communes/<int:commune_pk>/bureaux/nouveau/", views.bureau_new, name="bureau_new"),
    path("communes/<int:commune_pk>/administrateurs/nouveau/", views.commune_admin_new, name="commune_admin_new"),
    path("communes/<int:commune_pk>/elus/nouveau/", views.mandat_new, name="mandat_new"),
    path("communes/<int:commune_pk>/import/", views.commune_import, name="commune_import"),
    path("scrutins/", views.scrutins, name="scrutins"),
    path("scrutins/nouveau/", views.scrutin_new, name="scrutin_new"),
    path("scrutins/<int:scrutin_pk>/", views.scrutin, name="scrutin"),
    path("unites/", views.unites, name="unites"),
    path("unites/etablissement/", views.unite_etablissement, name="unite_etablissement"),
    path("unites/officiers/nouveau/", views.officier_new, name="officier_new"),
    path("comptes/<int:pk>/", views.compte_edit, name="compte_edit"),
    path("comptes/<int:pk>/activation/", views.compte_activation, name="compte_activation"),
    path("comptes/<int:pk>/reinitialisation/", views.compte_reset, name="compte_reset"),
]
