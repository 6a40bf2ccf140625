from django.urls import path

from api import portal_views

app_name = "mairie_api"

urlpatterns = [
    path("cles/", portal_views.keys, name="keys"),
    path("cles/<int:key_pk>/revoquer/", portal_views.key_revoke, name="key_revoke"),
]
