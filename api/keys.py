"""Creating and revoking API keys: the one place that does it (the mairie portal calls it)."""

import secrets

from django.db import transaction
from django.utils import timezone

from api.models import KEY_PREFIX, ApiKey, Scope, hash_key
from procuration.exceptions import DomainError
from procuration.models import AuditLog


def create_key(*, request, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key of the administrator's commune; returns (key, raw secret shown once)."""
    user = request.user
    name = (name or "").strip()
    if not name:
        raise DomainError("Donnez un nom à la clé (le logiciel qui l'utilisera).", field="name")
    scopes = sorted(set(scopes))
    if not scopes or any(s not in Scope.values for s in scopes):
        raise DomainError("Choisissez au moins un droit parmi ceux proposés.", field="scopes")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            commune_id=user.commune_id, name=name, prefix=raw[: len(KEY_PREFIX) + 6], key_hash=hash_key(raw),
            scopes=scopes, created_by=user,
        )
        AuditLog.record(request, "api.key_create", key, name=name, scopes=scopes)
    return key, raw


def revoke_key(*, request, key: ApiKey) -> bool:
    """Lock, re-check, change: a key revoked twice is revoked once."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = timezone.now()
        locked.revoked_by = request.user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        AuditLog.record(request, "api.key_revoke", locked, name=locked.name)
    return True
