"""The door of the API: a key of a commune, its scopes, its rate limit."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from api.models import ApiKey, hash_key
from procuration import ratelimit


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer dea_…`. request.user is the administrator who created the key (the
    transitions a key makes are signed by them; docs/api.md), request.auth the ApiKey."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization mal formé : « Bearer <clé> » attendu.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Clé d'API invalide.") from None
        key = (
            ApiKey.objects.active().select_related("created_by", "commune").filter(key_hash=hash_key(raw)).first()
        )
        if key is None or not key.created_by.is_active:
            raise exceptions.AuthenticationFailed("Clé d'API invalide ou révoquée.")
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "cleApi"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Clé d'API de la commune (dea_…)."}


class HasScope(BasePermission):
    """The view's `required_scope` (or one of them, when a tuple) must be among the key's scopes."""

    message = "Cette clé n'a pas le droit nécessaire."

    def has_permission(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            raise exceptions.NotAuthenticated("Une clé d'API est nécessaire (en-tête Authorization: Bearer <clé>).")
        scopes = view.required_scope if isinstance(view.required_scope, tuple) else (view.required_scope,)
        if not any(key.has_scope(s) for s in scopes):
            self.message = f"Cette clé n'a pas le droit « {' » ou « '.join(scopes)} »."
            return False
        return True


class PerKeyRateLimit(BaseThrottle):
    """procuration/ratelimit.py, one fixed window per key (settings.API_RATE_LIMIT per API_RATE_WINDOW_SECONDS)."""

    def allow_request(self, request, view):
        key = request.auth
        if not isinstance(key, ApiKey):
            return True
        return ratelimit.hit("api-key", str(key.pk), settings.API_RATE_LIMIT, settings.API_RATE_WINDOW_SECONDS)

    def wait(self):
        return settings.API_RATE_WINDOW_SECONDS
