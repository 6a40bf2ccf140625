import re
from decimal import Decimal, InvalidOperation

from django import forms
from dsfr.forms import DsfrBaseForm

from elus.models import Mandat, eligible_accounts
from procuration.credit_heures import Assemblee, Fonction, Nature

_HM = re.compile(r"^(\d{1,3})\s*(?:h|:)\s*(\d{1,2})?\s*(?:min)?$", re.IGNORECASE)


def parse_duree(raw: str) -> int:
    """'3 h 30', '3h30', '3:30', '3 h', '3' or '3,5' (hours) -> minutes; ValueError otherwise."""
    text = (raw or "").strip().lower()
    m = _HM.match(text)
    if m:
        minutes = int(m.group(2) or 0)
        if minutes >= 60:
            raise ValueError
        return int(m.group(1)) * 60 + minutes
    try:
        hours = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValueError from None
    if not hours.is_finite() or hours * 60 != int(hours * 60):
        raise ValueError
    return int(hours * 60)


class DureeField(forms.Field):
    """A duration typed by a person, cleaned to whole minutes."""

    widget = forms.TextInput(attrs={"maxlength": 20, "inputmode": "text"})

    def to_python(self, value):
        value = (value or "").strip()
        if len(value) > 20:
            raise forms.ValidationError("Indiquez la durée en 20 caractères au plus.", code="max_length")
        if value in self.empty_values:
            return None
        try:
            return parse_duree(value)
        except ValueError:
            raise forms.ValidationError(
                "Indiquez la durée en heures et minutes, par exemple « 3 h 30 » ou « 2 h ».", code="invalid"
            ) from None


class SimulateurForm(DsfrBaseForm):
    assemblee = forms.ChoiceField(label="Conseil où vous siégez", choices=Assemblee.CHOICES, initial=Assemblee.COMMUNE)
    fonction = forms.ChoiceField(
        label="Fonction", choices=Fonction.CHOICES, initial=Fonction.CONSEILLER,
        help_text="Maire, adjoint ou conseiller pour une commune ; président, vice-président ou conseiller pour un "
        "département ou une région.",
    )
    population = forms.IntegerField(
        label="Population de la commune (habitants)", required=False, min_value=0, max_value=10_000_000,
        help_text="Pour un mandat municipal seulement.",
    )
    majoration = forms.IntegerField(
        label="Majoration décidée par le conseil (%)", required=False, min_value=0, max_value=100, initial=0,
        help_text="De 0 à 30 %.",
    )
    temps_travail = forms.IntegerField(
        label="Temps de travail (% du temps plein)", required=False, min_value=1, max_value=100, initial=100,
        help_text="100 pour un temps plein ; le crédit est réduit en proportion pour un temps partiel.",
    )


class AbsenceForm(DsfrBaseForm):
    date = forms.DateField(
        label="Date de l'absence", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Votre employeur doit être informé par écrit au moins 3 jours avant.",
    )
    duree = DureeField(label="Durée", help_text="Par exemple « 3 h 30 » ou « 2 h ».")
    nature = forms.ChoiceField(label="Type d'absence", choices=Nature.CHOICES, widget=forms.RadioSelect,
                               initial=Nature.CREDIT)
    objet = forms.CharField(label="Objet de la réunion (facultatif)", required=False, max_length=200)


class MandatForm(DsfrBaseForm, forms.ModelForm):
    """Declare an élu of the commune: an account that may receive a mandate (elus.models
    eligible_accounts: the one rule) and its function. Used by the national back office and by the
    commune's administrator in the mairie portal. save() declares through Mandat.declarer (lock,
    re-check): it raises DomainError (field user) when another declaration came first."""

    class Meta:
        model = Mandat
        fields = ["user", "fonction", "temps_travail", "employeur"]
        labels = {"user": "Compte de l'élu (espace mairie)"}
        help_texts = {
            "user": "Un compte actif de l'espace mairie de la commune, qui n'a pas encore de mandat.",
            "temps_travail": "100 pour un temps plein ; le crédit d'heures est réduit en proportion.",
        }

    def __init__(self, *args, commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune = commune
        self.fields["user"].queryset = eligible_accounts(commune).order_by("last_name", "first_name")
        self.fields["user"].empty_label = "Choisir un compte"

    def save(self, commit=True):
        data = self.cleaned_data
        self.instance = Mandat.declarer(
            commune=self.commune, user=data["user"], fonction=data["fonction"], temps_travail=data["temps_travail"],
            employeur=data["employeur"],
        )
        return self.instance


class MandatEditForm(DsfrBaseForm, forms.ModelForm):
    """The working time and the employer of an élu (the function is declared once)."""

    class Meta:
        model = Mandat
        fields = ["temps_travail", "employeur"]
        help_texts = MandatForm.Meta.help_texts
