from django.contrib import admin

from elus.models import Absence, Mandat


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


@admin.register(Mandat)
class MandatAdmin(admin.ModelAdmin):
    list_display = ("user", "fonction", "temps_travail", "employeur")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("user__last_name", "user__username")
    inlines = [AbsenceInline]
