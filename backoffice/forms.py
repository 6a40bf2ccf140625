from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

# Declaring an élu: one form, one rule (elus.models.eligible_accounts), shared with the mairie portal.
from elus.forms import MandatForm as MandatForm
from procuration.models import BureauDeVote, Commune, Scrutin, User
from procuration.models.accounts import Qualite, unite_a_l_etranger


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
        clash = User.objects.filter(email__iexact=email)
        if self.instance.pk is not None:  # an account edited keeps its own address
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("Un compte utilise déjà cette adresse.")
        return email


class CommuneAdminEditForm(StaffAccountForm):
    """A commune administrator's details edited by the national administrator: the creation's
    fields and checks, but the identifiant, which the person types to log in."""

    class Meta(StaffAccountForm.Meta):
        fields = ["first_name", "last_name", "email"]


UNITE_A_L_ETRANGER_LABEL = "Unité à l'étranger (ambassade, consulat)"
UNITE_A_L_ETRANGER_HINT = (
    "Cochez pour une autorité qui siège hors de France : les procurations que ses officiers et agents valident "
    "sont alors établies à l'étranger (validité jusqu'à trois ans ; le mandataire peut en détenir deux, article "
    "L.73 du code électoral). Les procurations déjà validées ne changent pas."
)


def etablissement_label(a_l_etranger: bool) -> str:
    return "à l'étranger" if a_l_etranger else "en France"


class OfficerForm(StaffAccountForm):
    class Meta(StaffAccountForm.Meta):
        fields = StaffAccountForm.Meta.fields + ["qualite", "unite", "unite_a_l_etranger", "matricule", "is_unit_admin"]
        labels = {**StaffAccountForm.Meta.labels, "unite": "Unité (commissariat, brigade, consulat…)",
                  "unite_a_l_etranger": UNITE_A_L_ETRANGER_LABEL, "is_unit_admin": "Administrateur de l'unité"}
        help_texts = {**StaffAccountForm.Meta.help_texts, "unite_a_l_etranger": UNITE_A_L_ETRANGER_HINT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["qualite"].required = True
        self.fields["qualite"].choices = Qualite.choices
        self.fields["unite"].required = True
        self.fields["matricule"].required = True

    def clean(self):
        """A unit is in France or abroad for all its officers: a new one follows the unit."""
        data = super().clean()
        unite = data.get("unite")
        declared = unite_a_l_etranger(unite) if unite else None
        if declared is not None and data.get("unite_a_l_etranger", False) != declared:
            self.add_error("unite_a_l_etranger", (
                f"L'unité « {unite} » est déclarée {etablissement_label(declared)} : la personne habilitée y suit "
                "son unité. Pour changer l'unité entière, utilisez la liste des unités."
            ))
        return data


class OfficerEditForm(OfficerForm):
    """An officer's details edited by the national administrator: the creation's fields and checks
    (the unit in France or abroad follows the unit), but the identifiant, which the person types to
    log in."""

    class Meta(OfficerForm.Meta):
        fields = [name for name in OfficerForm.Meta.fields if name != "username"]


class UniteEtablissementForm(DsfrBaseForm):
    """Where the procurations an existing unit validates are established, for all its officers."""

    unite = forms.CharField(widget=forms.HiddenInput, max_length=200,
                            error_messages={"required": "Choisissez l'unité dans la liste des unités."})
    unite_a_l_etranger = forms.BooleanField(label=UNITE_A_L_ETRANGER_LABEL, required=False,
                                            help_text=UNITE_A_L_ETRANGER_HINT)


class ImportForm(DsfrBaseForm):
    fichier = forms.FileField(
        label="Extrait du répertoire électoral unique (CSV)",
        help_text="Fichier CSV en UTF-8, séparateur point-virgule, une ligne d'en-tête : nne;nom;nom_usage;prenoms;"
        "sexe;date_naissance;lieu_naissance;bureau;liste;adresse;code_lieu_naissance;code_pays_naissance;radiation;"
        "nationalite (seules les cinq premières sont obligatoires ; liste : principale, lcm, lce, lcm+lce ou "
        "consulaire ; voir la documentation du format).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class CommuneSearchForm(DsfrBaseForm):
    q = forms.CharField(label="Rechercher une commune (nom ou code INSEE)", required=False, max_length=100)
