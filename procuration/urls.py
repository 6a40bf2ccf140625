from django.contrib import admin
from django.urls import include, path

from procuration import health, metrics, views

admin.site.site_header = "Démarches électorales — administration nationale"
admin.site.site_title = "Administration nationale"

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibilite/", views.accessibilite, name="accessibilite"),
    path("apres-connexion/", views.after_login, name="after_login"),
    path("activation/<str:uidb64>/<str:token>/", views.staff_activation, name="staff_activation"),
    path("comptes/", include("allauth.urls")),
    path("mandant/", include("mandant.urls")),
    path("police/", include("police.urls")),
    path("mairie/", include("mairie.urls")),
    path("listes/", include("listes.urls")),
    path("elus/", include("elus.urls")),
    path("backoffice/", include("backoffice.urls")),
    path("admin/", admin.site.urls),
    path("dev/courriels/", views.dev_mailbox, name="dev_mailbox"),
    path("dev/totp/", views.dev_totp, name="dev_totp"),
]

# --- Operations: probes and metrics (docs/ops/operations.md) ---
urlpatterns += [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
]

# MEDIA_ROOT is never served, not even in development: the only files there are registre exports
# (electors' names and addresses) at guessable paths; mairie:export_download serves them, scoped.
