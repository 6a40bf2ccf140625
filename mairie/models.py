"""What the mairie portal keeps for itself: alert preferences, reminders sent, registre prints
and export jobs. The procuration itself lives in the procuration app."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AlertPreference(models.Model):
    """Which alerts an agent receives, and when the grouped "new arrivals" e-mail last went out."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mairie_alerts")
    nouvelles_arrivees = models.BooleanField(
        "nouvelles procurations à contrôler",
        default=True,
        help_text="Un courriel groupé, au plus un par heure, quand des procurations arrivent en mairie.",
    )
    rappels_scrutin = models.BooleanField(
        "rappels avant un scrutin",
        default=True,
        help_text="Un rappel à J-7, J-2 et J-1 avant chaque tour tant que des procurations attendent.",
    )
    inscriptions_en_retard = models.BooleanField(
        "inscriptions non décidées après 5 jours", default=True, db_default=True,
        help_text="Un courriel quand une demande d'inscription sur les listes électorales attend la décision du "
        "maire depuis plus de 5 jours.",
    )
    arrivals_sent_at = models.DateTimeField("dernier courriel d'arrivées", null=True, blank=True)
    arrivals_cutoff = models.DateTimeField(
        "arrivées déjà signalées jusqu'au", default=timezone.now,
        help_text="Les procurations arrivées après cette date n'ont pas encore été signalées.",
    )

    class Meta:
        verbose_name = "préférence d'alerte"

    def __str__(self):
        return f"Alertes de {self.user}"


class ReminderSent(models.Model):
    """One row per reminder sent, so J-7, J-2 and J-1 each go out once per agent and tour."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scrutin = models.ForeignKey("procuration.Scrutin", on_delete=models.CASCADE, related_name="+")
    tour = models.PositiveSmallIntegerField()
    step = models.PositiveSmallIntegerField("jours avant le scrutin")
    waiting = models.PositiveIntegerField("procurations en attente", default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "rappel envoyé"
        constraints = [
            models.UniqueConstraint(fields=["user", "scrutin", "tour", "step"], name="mairie_reminder_once"),
        ]

    def __str__(self):
        return f"Rappel J-{self.step} ({self.scrutin_id}, tour {self.tour}) à {self.user_id}"


class IleOverdueNotice(models.Model):
    """One row per agent and overdue ILE télédossier signalled, so each is announced once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    teledossier = models.ForeignKey("listes.Teledossier", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "inscription en retard signalée"
        constraints = [
            models.UniqueConstraint(fields=["user", "teledossier"], name="mairie_ile_overdue_once"),
        ]

    def __str__(self):
        return f"Inscription {self.teledossier_id} en retard signalée à {self.user_id}"


class Tour(models.IntegerChoices):
    PREMIER = 1, "1er tour"
    SECOND = 2, "2nd tour"


class ExportJob(models.Model):
    """An export built by a Celery task: the registre (PDF or CSV), or the CSV of the filtered queue
    or of search results (criteria: the filters as typed, read again by the task). Its page shows
    the progress."""

    class Kind(models.TextChoices):
        REGISTRE = "registre", "Registre des procurations"
        FILE = "file", "File d'attente filtrée"
        RECHERCHE = "recherche", "Résultats de recherche"

    class Format(models.TextChoices):
        PDF = "pdf", "PDF (registre à imprimer)"
        CSV = "csv", "CSV (tableur)"

    class State(models.TextChoices):
        PENDING = "pending", "En file d'attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"

    kind = models.CharField("export", max_length=10, choices=Kind.choices, default=Kind.REGISTRE,
                            db_default=Kind.REGISTRE)
    criteria = models.JSONField("critères", default=dict, blank=True, null=True)
    commune = models.ForeignKey("procuration.Commune", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scrutin = models.ForeignKey("procuration.Scrutin", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tour = models.PositiveSmallIntegerField(choices=Tour.choices, null=True, blank=True)
    bureau = models.ForeignKey(
        "procuration.BureauDeVote", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Vide : tous les bureaux de la commune.",
    )
    format = models.CharField(max_length=3, choices=Format.choices)
    nouveaux_seulement = models.BooleanField("seulement les nouvelles depuis la dernière édition", default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    progress = models.PositiveSmallIntegerField("avancement (%)", default=0)
    total = models.PositiveIntegerField("procurations", default=0)
    file = models.FileField(upload_to="mairie/registres/%Y/%m/", blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "export du registre"

    def __str__(self):
        if self.kind != self.Kind.REGISTRE:
            return f"{self.get_kind_display()} ({self.format})"
        return f"Registre {self.scrutin} {self.get_tour_display()} ({self.format})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def filename(self) -> str:
        if self.kind != self.Kind.REGISTRE:
            stamp = timezone.localtime(self.created_at).strftime("%Y%m%d-%H%M")
            prefix = "file-attente" if self.kind == self.Kind.FILE else "recherche"
            return f"{prefix}-{self.commune.code_insee}-{stamp}.{self.format}"
        bureau = f"bureau-{self.bureau.numero}" if self.bureau_id else "tous-bureaux"
        return f"registre-{self.commune.code_insee}-{self.scrutin_id}-tour{self.tour}-{bureau}.{self.format}"


class RegistrePrint(models.Model):
    """One edition of the registre of one bureau: what came after it is "nouveau"."""

    commune = models.ForeignKey("procuration.Commune", on_delete=models.CASCADE, related_name="+")
    scrutin = models.ForeignKey("procuration.Scrutin", on_delete=models.CASCADE, related_name="+")
    tour = models.PositiveSmallIntegerField(choices=Tour.choices)
    bureau = models.ForeignKey("procuration.BureauDeVote", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(ExportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="prints")
    printed_at = models.DateTimeField(default=timezone.now)
    printed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    count = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-printed_at", "-pk"]
        verbose_name = "édition du registre"
        indexes = [models.Index(fields=["commune", "scrutin", "tour", "bureau", "printed_at"], name="mairie_print_idx")]

    def __str__(self):
        return f"Registre {self.commune_id}/{self.scrutin_id} tour {self.tour}, bureau {self.bureau_id} ({self.printed_at:%d/%m/%Y %H:%M})"
