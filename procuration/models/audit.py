from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditLog(models.Model):
    """Who looked at or did what (reference lookups at the counter, exports, account changes)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "journal d'audit"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}:{self.object_id}"

    @classmethod
    def record(cls, request_or_user, action: str, obj=None, **detail):
        user = getattr(request_or_user, "user", request_or_user)
        ip = None
        if hasattr(request_or_user, "META"):
            from procuration.network import client_ip

            ip = client_ip(request_or_user) or None
        return cls.objects.create(
            actor=user if getattr(user, "is_authenticated", False) else None,
            action=action,
            object_type=obj._meta.label if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            ip=ip,
            detail=detail,
        )
