from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import docs, views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("documentation/", docs.documentation, name="documentation"),
    path("procurations/", views.ProcurationList.as_view(), name="procurations"),
    path("procurations/<int:pk>/", views.ProcurationDetail.as_view(), name="procuration"),
    path("teledossiers/", views.TeledossierList.as_view(), name="teledossiers"),
    path("teledossiers/<str:numero>/", views.TeledossierDetail.as_view(), name="teledossier"),
    path("teledossiers/<str:numero>/transitions/", views.TeledossierTransition.as_view(), name="teledossier_transition"),
    path("teledossiers/<str:numero>/documents/", views.TeledossierDocument.as_view(), name="teledossier_document"),
    path("teledossiers/<str:numero>/attestation-recensement/", views.TeledossierAttestationRecensement.as_view(),
         name="teledossier_attestation_rco"),
    path("changements/", views.Feed.as_view(), name="feed"),
    path("fichiers/<str:token>/", views.Fichier.as_view(), name="fichier"),
    # Anything else under /api/v1/ is a problem+json 404 too, not the site's HTML page.
    re_path(r"^.*$", views.not_found, name="not_found"),
]
