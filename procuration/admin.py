from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import Http404

from procuration.access import logs_in_with_password
from procuration.models import (
    AuditDigest,
    AuditLog,
    BureauDeVote,
    Commune,
    Electeur,
    OutboxEmail,
    Procuration,
    ProcurationEvent,
    Scrutin,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "last_name", "first_name", "role", "commune", "is_commune_admin", "is_active")
    list_filter = ("role", "is_active", "is_commune_admin", "qualite")
    search_fields = ("username", "last_name", "first_name", "email", "matricule")
    autocomplete_fields = ("commune",)
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Rôle", {"fields": ("role", "commune", "is_commune_admin")}),
        ("Police et gendarmerie", {"fields": ("qualite", "unite", "matricule", "is_unit_admin")}),
        ("Identité (FranceConnect)", {"fields": ("birthdate", "gender", "birthplace", "birthcountry",
                                                 "identity_provider")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("Rôle", {"fields": ("role", "first_name", "last_name", "email", "commune", "is_commune_admin",
                            "qualite", "unite", "matricule")}),
    )

    def user_change_password(self, request, id, form_url=""):
        """An elector never gets a password, not even from the national administrator."""
        user = self.get_object(request, unquote(id))
        if user is not None and not logs_in_with_password(user):
            raise Http404
        return super().user_change_password(request, id, form_url)


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("nom", "code_insee", "departement", "population", "auto_validation")
    search_fields = ("nom", "code_insee")


@admin.register(BureauDeVote)
class BureauDeVoteAdmin(admin.ModelAdmin):
    list_display = ("commune", "numero", "nom")
    list_select_related = ("commune",)
    search_fields = ("nom", "commune__nom")


def _radier(motif, label):
    """An admin action: the register's event through its one domain function (the procurations it voids
    end, their mandants e-mailed), never a raw edit of the fields."""

    def action(modeladmin, request, queryset):
        from procuration.registry import radier_electeur

        voided = sum(len(radier_electeur(e, motif, by=request.user)) for e in queryset)
        modeladmin.message_user(request, f"{queryset.count()} électeur(s) : {label.lower()} enregistré(e). "
                                         f"Procurations annulées : {voided} (les mandants sont prévenus).")

    action.__name__ = f"radier_{motif}"
    action.short_description = f"{label} : radier et annuler les procurations en cours"
    return action


@admin.register(Electeur)
class ElecteurAdmin(admin.ModelAdmin):
    list_display = ("nne", "nom", "prenoms", "date_naissance", "commune", "liste", "inscrit")
    list_select_related = ("commune",)
    search_fields = ("nne", "nom")
    raw_id_fields = ("commune", "bureau", "tuteur")
    # Radiation, death and civic rights change only through procuration.registry.radier_electeur (the
    # actions below, or the register import): it voids the procurations they end.
    readonly_fields = ("inscrit", "deces", "droits_civiques")
    actions = [_radier("deces", "Décès"), _radier("radiation", "Radiation"),
               _radier("droits_civiques", "Privation des droits civiques")]


@admin.register(Scrutin)
class ScrutinAdmin(admin.ModelAdmin):
    list_display = ("libelle", "type", "date_tour1", "date_tour2")


class EventInline(admin.TabularInline):
    model = ProcurationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("seq", "from_status", "to_status", "actor", "at", "reason")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Procuration)
class ProcurationAdmin(admin.ModelAdmin):
    list_display = ("reference", "status", "origine", "commune", "created_at")
    list_filter = ("status", "origine")
    search_fields = ("reference",)
    list_select_related = ("commune",)
    raw_id_fields = ("mandant", "mandataire", "mandant_user", "autorite_by", "mairie_by", "commune", "scrutin")
    inlines = [EventInline]

    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the model's transition methods.
        return [f.name for f in self.model._meta.fields]


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ("kind", "to", "state", "attempts", "created_at", "sent_at")
    list_filter = ("state", "kind")
    readonly_fields = [f.name for f in OutboxEmail._meta.fields]


class ReadOnlyAdmin(admin.ModelAdmin):
    """The audit trail is append-only (procuration/models/audit.py): shown, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "action", "object_type", "object_id", "ip")
    list_filter = ("action",)


@admin.register(ProcurationEvent)
class ProcurationEventAdmin(ReadOnlyAdmin):
    list_display = ("dossier", "seq", "from_status", "to_status", "actor", "at")
    list_filter = ("to_status",)


@admin.register(AuditDigest)
class AuditDigestAdmin(ReadOnlyAdmin):
    list_display = ("day", "audit_seq", "audit_hash", "dossiers", "dossiers_hash")
