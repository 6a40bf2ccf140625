from django.urls import path

from mairie import views

app_name = "mairie"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("file/", views.queue, name="queue"),
    path("file/valider/", views.batch_validate, name="batch_validate"),
    path("file/exporter/", views.queue_export, name="queue_export"),
    path("recherche/", views.search, name="search"),
    path("recherche/exporter/", views.search_export, name="search_export"),
    path("procurations/<int:procuration_pk>/", views.detail, name="detail"),
    path("procurations/<int:procuration_pk>/valider/", views.validate, name="validate"),
    path("procurations/<int:procuration_pk>/invalider/", views.invalidate, name="invalidate"),
    path("registre/", views.registre, name="registre"),
    path("registre/exports/<int:export_pk>/", views.export, name="export"),
    path("registre/exports/<int:export_pk>/telecharger/", views.export_download, name="export_download"),
    path("cerfa/", views.cerfa, name="cerfa"),
    path("alertes/", views.alertes, name="alertes"),
    path("parametres/", views.parametres, name="parametres"),
    path("agents/", views.agents, name="agents"),
    path("agents/nouveau/", views.agent_create, name="agent_create"),
    path("agents/<int:agent_pk>/", views.agent_edit, name="agent_edit"),
    path("agents/<int:agent_pk>/activation/", views.agent_toggle, name="agent_toggle"),
    path("agents/<int:agent_pk>/reinitialiser/", views.agent_reset, name="agent_reset"),
    path("elus/", views.mandats, name="mandats"),
    path("elus/nouveau/", views.mandat_create, name="mandat_create"),
    path("elus/<int:mandat_pk>/", views.mandat_edit, name="mandat_edit"),
    path("elus/<int:mandat_pk>/fin/", views.mandat_end, name="mandat_end"),
]
