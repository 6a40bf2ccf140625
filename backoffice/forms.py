from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from procuration.models import BureauDeVote, Commune, Scrutin, User
from procuration.models.accounts import Qualite


class CommuneForm(DsfrBaseForm, forms.ModelForm):
    class Meta:
        model = Commune
        fields = ["code_insee", "nom", "departement", "population", "majoration_credit_heures", "email_service"]
        help_texts = {
            "code_insee": "5 caractères (code officiel géographique), par exemple 81005.",
            "population": "Population municipale : elle fixe le crédit d'heures des élus et le seuil des alertes.",
        }

    def clean_code_insee(self):
        code = self.cleaned_data["code_insee"].strip().upper()
        if len(code) != 5 or not code.replace("A", "").replace("B", "").isdigit():
            raise ValidationError("Le code INSEE compte 5 caractères (chiffres, ou 2A / 2B pour la Corse).")
        return code


class BureauForm(DsfrBaseForm, forms.ModelForm):
    class Meta:
        model = BureauDeVote
        fields = ["numero", "nom", "adresse"]

    def __init__(self, *args, commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune = commune

    def clean_numero(self):
        numero = self.cleaned_data["numero"]
        if numero is not None and BureauDeVote.objects.filter(commune=self.commune, numero=numero).exclude(
            pk=self.instance.pk
        ).exists():
            raise ValidationError(f"La commune a déjà un bureau de vote n° {numero}.")
        return numero


class ScrutinForm(DsfrBaseForm, forms.ModelForm):
    communes = forms.ModelMultipleChoiceField(
        label="Communes concernées", queryset=Commune.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Laissez vide pour un scrutin national. Pour une élection partielle, choisissez les communes "
        "(Ctrl ou Maj pour en choisir plusieurs).",
    )

    class Meta:
        model = Scrutin
        fields = ["type", "libelle", "date_tour1", "date_tour2", "communes"]
        widgets = {
            "date_tour1": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "date_tour2": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communes"].queryset = Commune.objects.order_by("nom")

    def clean(self):
        data = super().clean()
        t1, t2 = data.get("date_tour1"), data.get("date_tour2")
        if t1 and t2 and t2 <= t1:
            self.add_error("date_tour2", "Le 2nd tour a lieu après le 1er tour.")
        return data


class StaffAccountForm(DsfrBaseForm, forms.ModelForm):
    """A staff account created by the national administrator: no password is chosen here; the
    person gets a single-use activation link (procuration/activation.py), chooses the password
    there and enrols TOTP at the first login."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email"]
        labels = {"username": "Identifiant", "first_name": "Prénom", "last_name": "Nom", "email": "Adresse électronique"}
        help_texts = {"username": "Lettres, chiffres et . - _ uniquement."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "email"):
            self.fields[name].required = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("Un compte utilise déjà cette adresse.")
        return email


class OfficerForm(StaffAccountForm):
    class Meta(StaffAccountForm.Meta):
        fields = StaffAccountForm.Meta.fields + ["qualite", "unite", "matricule", "is_unit_admin"]
        labels = {**StaffAccountForm.Meta.labels, "unite": "Unité (commissariat, brigade…)",
                  "is_unit_admin": "Administrateur de l'unité"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualite"].required = True
        self.fields["qualite"].choices = Qualite.choices
        self.fields["unite"].required = True
        self.fields["matricule"].required = True


class MandatForm(DsfrBaseForm, forms.ModelForm):
    """Declare an élu of the commune: a mairie-portal account of that commune and its function."""

    class Meta:
        from elus.models import Mandat

        model = Mandat
        fields = ["user", "fonction", "temps_travail", "employeur"]
        labels = {"user": "Compte de l'élu (espace mairie)"}

    def __init__(self, *args, commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(
            commune=commune, role="agent_mairie", is_active=True, mandat__isnull=True
        ).order_by("last_name", "first_name")
        self.fields["user"].empty_label = "Choisir un compte"


class ImportForm(DsfrBaseForm):
    fichier = forms.FileField(
        label="Extrait du répertoire électoral unique (CSV)",
        help_text="Fichier CSV en UTF-8, séparateur point-virgule, une ligne d'en-tête : nne;nom;nom_usage;prenoms;"
        "sexe;date_naissance;lieu_naissance;bureau;liste;adresse;code_lieu_naissance;code_pays_naissance (voir la "
        "documentation du format).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class CommuneSearchForm(DsfrBaseForm):
    q = forms.CharField(label="Rechercher une commune (nom ou code INSEE)", required=False, max_length=100)
