from django.db import models
from django.utils import timezone


class OutboxEmail(models.Model):
    """An e-mail written in the same transaction as the change it reports, sent after commit."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec définitif"

    kind = models.CharField("modèle", max_length=60)
    to = models.EmailField("destinataire")
    subject = models.CharField("objet", max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # No index leads with the state (migration 0019): PostgreSQL estimates « pending » at one row from
    # statistics taken when every message was sent, and read such an index, dead entries included,
    # to find one row by its key. The partial indexes below serve the state's queries.
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    procuration = models.ForeignKey(
        "procuration.Procuration", null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    object_ref = models.CharField("objet lié (app.Model:pk)", max_length=80, blank=True, db_index=True)
    # The lease (procuration/tasks.py): a worker that claimed the row, until when; with claimed_by
    # empty, claimed_until is the retry back-off of a temporary failure (batches skip the row until then).
    claimed_by = models.CharField(max_length=40, blank=True, default="", db_default="")  # as migration 0012
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "courriel (boîte d'envoi)"
        verbose_name_plural = "courriels (boîte d'envoi)"
        ordering = ["-created_at"]
        indexes = [
            # The pending messages (batches, sweep, metrics): a handful of rows whatever the table's size.
            models.Index(fields=["id"], condition=models.Q(state="pending"), name="outbox_claimable_idx"),
            # The failed ones (metrics, the back office).
            models.Index(fields=["id"], condition=models.Q(state="failed"), name="outbox_failed_idx"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to} ({self.get_state_display()})"

    @property
    def message_id(self) -> str:
        # Stable per row: a re-delivery after a crash can be recognised downstream.
        return f"<outbox-{self.pk}@demarches-electorales>"
