from django import forms
from dsfr.forms import DsfrBaseForm

from procuration.models import RefusMotif, User
from procuration.models.accounts import Qualite
from procuration.models.procuration import PieceType


class ReferenceForm(DsfrBaseForm):
    reference = forms.CharField(
        label="Référence d'enregistrement",
        help_text="6 caractères, donnés par le mandant (majuscules ou minuscules, espaces acceptés).",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class PieceField(forms.CharField):
    """The last characters of the identity document's number (4 letters or digits)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Fin du numéro de la pièce")
        kwargs.setdefault("help_text", "Les 4 derniers caractères du numéro de la pièce présentée.")
        super().__init__(min_length=4, max_length=4, **kwargs)

    def clean(self, value):
        value = "".join((value or "").split()).upper()
        value = super().clean(value)
        if value and not value.isalnum():
            raise forms.ValidationError("Saisissez uniquement des chiffres et des lettres.")
        return value


class ValidationForm(DsfrBaseForm):
    piece_type = forms.ChoiceField(
        label="Pièce d'identité présentée", choices=[("", "Choisir la pièce présentée"), *PieceType.choices],
        error_messages={"required": "Choisissez la pièce d'identité présentée."},
    )
    piece_numero_fin = PieceField(
        error_messages={
            "required": "Saisissez les 4 derniers caractères du numéro de la pièce présentée.",
            "min_length": "Saisissez exactement les 4 derniers caractères du numéro de la pièce.",
            "max_length": "Saisissez exactement les 4 derniers caractères du numéro de la pièce.",
        }
    )


class RefusForm(DsfrBaseForm):
    motif = forms.ChoiceField(
        label="Motif du refus", choices=RefusMotif.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif du refus."},
    )
    detail = forms.CharField(label="Précision", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("motif") == RefusMotif.AUTRE and not (data.get("detail") or "").strip():
            self.add_error("detail", "Précisez le motif du refus.")
        return data


class HistoryForm(DsfrBaseForm):
    SCOPES = [("moi", "Mes actes"), ("unite", "Les actes de mon unité")]
    scope = forms.ChoiceField(label="Actes", choices=SCOPES, required=False)
    du = forms.DateField(label="Du", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    au = forms.DateField(label="Au", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reference = forms.CharField(label="Référence", required=False, max_length=20,
                                help_text="Les 6 caractères de la référence d'enregistrement.")

    def clean_reference(self):
        from procuration.reference import InvalidReference, normalize_reference

        raw = self.cleaned_data.get("reference", "")
        if not raw.strip():
            return ""
        try:
            return normalize_reference(raw)
        except InvalidReference as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self):
        data = super().clean()
        if data.get("du") and data.get("au") and data["du"] > data["au"]:
            raise forms.ValidationError("La date de début doit précéder la date de fin.")
        return data


class OfficerForm(DsfrBaseForm):
    """A unit admin creates an officer of their own unit. The identifiant is generated and the
    officer chooses their password through an activation link (procuration.activation)."""

    last_name = forms.CharField(label="Nom", max_length=150)
    first_name = forms.CharField(label="Prénom", max_length=150)
    qualite = forms.ChoiceField(label="Qualité", choices=Qualite.choices)
    matricule = forms.CharField(label="Matricule", max_length=30)
    email = forms.EmailField(
        label="Adresse électronique professionnelle",
        help_text="Le lien d'activation du compte y est envoyé : l'agent y choisit son mot de passe, puis configure "
        "sa double authentification.",
    )

    def clean_matricule(self):
        matricule = self.cleaned_data["matricule"].strip()
        if User.objects.filter(matricule=matricule, role="policier").exists():
            raise forms.ValidationError("Un compte existe déjà pour ce matricule.")
        return matricule
