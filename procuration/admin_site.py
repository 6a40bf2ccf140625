"""The national administrator's site (/admin/): the most protected door.

- It has no login form of its own: /admin/login/ sends to the staff login (allauth: password,
  TOTP, the same rate limits), with next=.
- Its door is the portals' door (procuration/access.py ``portal_required("admin")``): the national
  administrator only, a password session, a TOTP authenticator enrolled (MFA_ROLES).
- Every addition, change and deletion made through it is written to our audit trail
  (procuration.AuditLog: who, what, when, from where), for every ModelAdmin registered on it,
  ours and the libraries' alike. Django's LogEntry is still written (the admin's history), but
  it is editable; the audit trail is the record.
"""

import json
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

# Loaded while INSTALLED_APPS is read (NationalAdminConfig): models are imported inside methods.


def _plain(message):
    """The admin's change message (a list of dicts whose labels may be lazy strings) as JSON."""
    return json.loads(json.dumps(message, default=str))


class AuditedModelAdmin:
    """Mixed into every ModelAdmin of the national site (NationalAdminSite.register)."""

    def _audit(self, request, action, obj, message=None):
        from procuration.models import AuditLog

        detail = {"repr": str(obj)[:200]}
        if message:
            detail["message"] = _plain(message)
        AuditLog.record(request, action, obj, **detail)

    def log_addition(self, request, obj, message):
        self._audit(request, "admin.ajout", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "admin.modification", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "admin.suppression", obj)
        return super().log_deletions(request, queryset)


class NationalAdminSite(admin.AdminSite):
    site_header = "Démarches électorales — administration nationale"
    site_title = "Administration nationale"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedModelAdmin):
            admin_class = type(admin_class.__name__, (AuditedModelAdmin, admin_class),
                               {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__})
        return super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        from procuration.models import Role

        user = request.user
        return user.is_active and user.is_staff and user.role == Role.ADMIN_NATIONAL

    def admin_view(self, view, cacheable=False):
        from procuration.access import portal_required

        return portal_required("admin")(super().admin_view(view, cacheable))

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """No password form here: the staff login (password, then TOTP), back to next."""
        if request.user.is_authenticated and not self.has_permission(request):
            raise PermissionDenied("Cet espace est réservé à l'administration nationale.")
        next_url = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            return redirect(next_url)
        return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


class NationalAdminConfig(AdminConfig):
    """django.contrib.admin, with the national administrator's site as admin.site
    (INSTALLED_APPS names this class instead of "django.contrib.admin")."""

    default_site = "procuration.admin_site.NationalAdminSite"
