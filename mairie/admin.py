from django.contrib import admin

from mairie.models import AlertPreference, ExportJob, RegistrePrint, ReminderSent


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "nouvelles_arrivees", "rappels_scrutin", "arrivals_sent_at")
    raw_id_fields = ("user",)


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ("user", "scrutin", "tour", "step", "waiting", "sent_at")
    raw_id_fields = ("user",)


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("commune", "scrutin", "tour", "bureau", "format", "state", "progress", "created_at")
    list_filter = ("state", "format")
    raw_id_fields = ("commune", "requested_by", "scrutin", "bureau")


@admin.register(RegistrePrint)
class RegistrePrintAdmin(admin.ModelAdmin):
    list_display = ("commune", "scrutin", "tour", "bureau", "printed_at", "count", "new_count")
    raw_id_fields = ("commune", "scrutin", "bureau", "printed_by", "job")
