from allauth.account import views as account_views
from allauth.mfa.base import views as mfa_views
from allauth.mfa.recovery_codes import views as recovery_views
from allauth.mfa.totp import views as totp_views
from allauth.socialaccount import views as social_views
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.contrib import admin
from django.urls import include, path, re_path

from procuration import health, metrics, views
from procuration.access import staff_only

# allauth's pages, mounted one by one (never include("allauth.urls")): only those a kind of user
# needs (docs/security.md, « Doors and proofs of identity »). Electors have no password, no
# e-mail management and no sign-up page: FranceConnect / France Identité (OpenID Connect) only.
# Staff: login, logout, TOTP, reauthentication, password change and reset (staff accounts only:
# procuration/forms.py). Not mounted: signup, email, confirm-email, password/set, login by code,
# social sign-up and connections.
comptes = [
    # Staff: password + TOTP.
    path("login/", account_views.login, name="account_login"),
    path("logout/", account_views.logout, name="account_logout"),
    path("inactive/", account_views.account_inactive, name="account_inactive"),
    path("reauthenticate/", staff_only(account_views.reauthenticate), name="account_reauthenticate"),
    path("password/change/", staff_only(account_views.password_change), name="account_change_password"),
    path("password/reset/", staff_only(account_views.password_reset), name="account_reset_password"),
    path("password/reset/done/", staff_only(account_views.password_reset_done), name="account_reset_password_done"),
    re_path(r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
            staff_only(account_views.password_reset_from_key), name="account_reset_password_from_key"),
    path("password/reset/key/done/", staff_only(account_views.password_reset_from_key_done),
         name="account_reset_password_from_key_done"),
    path("2fa/", staff_only(mfa_views.index), name="mfa_index"),
    path("2fa/authenticate/", mfa_views.authenticate, name="mfa_authenticate"),  # the login's TOTP stage
    path("2fa/reauthenticate/", staff_only(mfa_views.reauthenticate), name="mfa_reauthenticate"),
    path("2fa/totp/activate/", staff_only(totp_views.activate_totp), name="mfa_activate_totp"),
    path("2fa/totp/deactivate/", staff_only(totp_views.deactivate_totp), name="mfa_deactivate_totp"),
    path("2fa/recovery-codes/", staff_only(recovery_views.view_recovery_codes), name="mfa_view_recovery_codes"),
    path("2fa/recovery-codes/generate/", staff_only(recovery_views.generate_recovery_codes),
         name="mfa_generate_recovery_codes"),
    path("2fa/recovery-codes/download/", staff_only(recovery_views.download_recovery_codes),
         name="mfa_download_recovery_codes"),
    # Electors: FranceConnect and France Identité (allauth's openid_connect provider, per app).
    path("oidc/<str:provider_id>/login/", oidc_views.login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", oidc_views.callback, name="openid_connect_callback"),
    path("3rdparty/login/cancelled/", social_views.login_cancelled, name="socialaccount_login_cancelled"),
    path("3rdparty/login/error/", social_views.login_error, name="socialaccount_login_error"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibilite/", views.accessibilite, name="accessibilite"),
    path("", include("procuration.pages")),
    path("apres-connexion/", views.after_login, name="after_login"),
    path("activation/<str:uidb64>/<str:token>/", views.staff_activation, name="staff_activation"),
    path("comptes/", include(comptes)),
    path("mandant/", include("mandant.urls")),
    path("police/", include("police.urls")),
    path("mairie/", include("mairie.urls")),
    path("listes/", include("listes.urls")),
    path("elus/", include("elus.urls")),
    path("backoffice/", include("backoffice.urls")),
    path("admin/", admin.site.urls),
    # API v1 for the communes' software and its keys in the mairie portal (docs/api.md).
    path("api/v1/", include("api.urls")),
    path("mairie/api/", include("api.portal_urls")),
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
