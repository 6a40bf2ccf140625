from django import forms
from django.contrib import admin

from elus.models import NOT_ELIGIBLE, Absence, Mandat, eligible_accounts


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


class MandatAdminForm(forms.ModelForm):
    """The admin's raw account id obeys the same rule as the back office and the mairie
    (elus.models.eligible_accounts) when a mandate is given to an account."""

    class Meta:
        model = Mandat
        fields = ["user", "fonction", "temps_travail", "employeur"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.pk != self.instance.user_id and not eligible_accounts(user.commune_id).filter(pk=user.pk).exists():
            raise forms.ValidationError(NOT_ELIGIBLE)
        return user


@admin.register(Mandat)
class MandatAdmin(admin.ModelAdmin):
    form = MandatAdminForm
    list_display = ("user", "fonction", "temps_travail", "employeur")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("user__last_name", "user__username")
    inlines = [AbsenceInline]
