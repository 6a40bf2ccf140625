from django.urls import path

from listes import views

app_name = "listes"

urlpatterns = [
    # Guichet de suivi (agents listes of one commune).
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("dossiers.csv", views.export_csv, name="export_csv"),
    path("dossiers/<str:numero>/", views.dossier, name="dossier"),
    path("dossiers/<str:numero>/action/<str:action>/", views.transition, name="transition"),
    path("dossiers/<str:numero>/documents/ajouter/", views.document_add, name="document_add"),
    path("dossiers/<str:numero>/attestation-recensement/", views.attestation_rco, name="attestation_rco"),
    path("dossiers/<str:numero>/elements.zip", views.dossier_zip, name="dossier_zip"),
    path("dossiers/<str:numero>/pieces/<int:pk>/", views.agent_piece, name="agent_piece"),
    path("dossiers/<str:numero>/documents/<int:pk>/", views.agent_document, name="agent_document"),
    path("electeurs/", views.electeurs, name="electeurs"),
    path("administration/utilisateurs/", views.users, name="users"),
    path("administration/utilisateurs/<int:pk>/activation/", views.user_toggle, name="user_toggle"),
    path("administration/utilisateurs/<int:pk>/reinitialiser/", views.user_reset, name="user_reset"),
    path("administration/attestations/", views.config, name="config"),
    path("administration/attestations/<str:name>.img", views.config_image, name="config_image"),
    # Espace personnel of the usager.
    path("usager/", views.usager_home, name="usager_home"),
    path("usager/inscription/", views.usager_ile_new, name="usager_ile_new"),
    path("usager/recensement/", views.usager_rco_new, name="usager_rco_new"),
    path("usager/dossiers/<str:numero>/", views.usager_dossier, name="usager_dossier"),
    path("usager/dossiers/<str:numero>/documents/<int:pk>/", views.usager_document, name="usager_document"),
    path("usager/pieces/<int:pk>/", views.usager_piece, name="usager_piece"),
]
