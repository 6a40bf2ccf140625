"""API keys of the communes and the change log behind the delta feed (docs/api.md)."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    PROCURATIONS_READ = "procurations:read", "Lire les procurations de la commune"
    TELEDOSSIERS_READ = "teledossiers:read", "Lire les télédossiers et leurs documents"
    TELEDOSSIERS_WRITE = "teledossiers:write", "Faire évoluer les télédossiers (états, attestation)"


KEY_PREFIX = "dea_"  # « démarches électorales, API »: recognisable in logs and by secret scanners


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def of_commune(self, user):
        """The keys a commune administrator manages: their commune's; nobody else's."""
        if not (user.is_authenticated and user.is_active and user.is_commune_admin and user.commune_id):
            return self.none()
        return self.filter(commune_id=user.commune_id)


class ApiKey(models.Model):
    """A key a commune's software sends as `Authorization: Bearer dea_…`. Only its SHA-256 is stored:
    the key has 256 random bits, so a fast hash is enough (nothing to brute-force)."""

    commune = models.ForeignKey("procuration.Commune", on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField("nom", max_length=100)
    prefix = models.CharField("début de la clé", max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField("droits", default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("créée le", default=timezone.now)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "clé d'API"
        verbose_name_plural = "clés d'API"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def scope_labels(self) -> list[str]:
        return [Scope(s).label for s in self.scopes if s in Scope.values]


class Change(models.Model):
    """One row per domain change of a commune's procuration or télédossier: what the delta feed
    (api.feed) and the webhooks read. Written in the same transaction as the change (api.changes.record).

    `tx` is the writing transaction's id (PostgreSQL `pg_current_xact_id()`, 64-bit, never wraps);
    the feed only serves rows whose transaction is older than every transaction still running,
    so a row committed late can never land behind a cursor already handed out (docs/api.md)."""

    class Kind(models.TextChoices):
        PROCURATION = "procuration", "Procuration"
        TELEDOSSIER = "teledossier", "Télédossier"

    commune = models.ForeignKey("procuration.Commune", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.BigIntegerField()
    event = models.CharField(max_length=60)
    state = models.CharField("statut ou état après le changement", max_length=20)
    at = models.DateTimeField(default=timezone.now)
    tx = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = "changement (fil et webhooks)"
        indexes = [models.Index(fields=["commune", "tx", "id"], name="api_change_feed_idx")]

    def __str__(self):
        return f"{self.event} {self.kind}:{self.object_id}"


class WebhookEndpoint(models.Model):
    """An HTTPS address of the commune's software that receives each Change (api/webhooks.py)."""

    commune = models.ForeignKey("procuration.Commune", on_delete=models.PROTECT, related_name="+")
    url = models.URLField("adresse", max_length=500)
    secret = models.CharField(max_length=100)  # whsec_<base64>: needed in clear to sign
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField("actif", default=True)
    disabled_at = models.DateTimeField("désactivé le", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "webhook"

    def __str__(self):
        return self.url

    def signing_secrets(self) -> list[str]:
        """The secret, and during a rotation the previous one too (receivers accept either)."""
        out = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > timezone.now():
            out.append(self.previous_secret)
        return out


class WebhookDelivery(models.Model):
    """One Change for one endpoint: an outbox row written in the change's transaction."""

    class State(models.TextChoices):
        PENDING = "pending", "À livrer"
        DELIVERED = "delivered", "Livré"
        FAILED = "failed", "Abandonné après 24 h"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="+")
    msg_id = models.CharField(max_length=40, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="api_webhook_due_idx")]

    def __str__(self):
        return f"{self.msg_id} → {self.endpoint_id} ({self.state})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
