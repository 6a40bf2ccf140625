from django.urls import path

from api import portal_views

app_name = "mairie_api"

urlpatterns = [
    path("cles/", portal_views.keys, name="keys"),
    path("cles/<int:key_pk>/revoquer/", portal_views.key_revoke, name="key_revoke"),
    path("webhooks/", portal_views.webhooks, name="webhooks"),
    path("webhooks/<int:endpoint_pk>/", portal_views.webhook_log, name="webhook_log"),
    path("webhooks/<int:endpoint_pk>/rotation/", portal_views.webhook_rotate, name="webhook_rotate"),
    path("webhooks/livraisons/<int:delivery_pk>/rejouer/", portal_views.webhook_replay, name="webhook_replay"),
]
