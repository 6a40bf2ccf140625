from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from mairie.models import ExportJob, Tour
from procuration.fixed_select import CompiledOnce
from procuration.models import BureauDeVote, InvalidationMotif, Role, Scrutin, Status, User

AGE_CHOICES = [
    ("", "Toutes"),
    ("1", "Arrivées depuis plus d'un jour"),
    ("3", "Arrivées depuis plus de 3 jours"),
    ("7", "Arrivées depuis plus de 7 jours"),
    ("14", "Arrivées depuis plus de 14 jours"),
]
# The queue's own view first: validated by an authority, waiting for the mairie.
STATUS_CHOICES = [(Status.VALIDEE_AUTORITE.value, "En attente de la mairie (validée par l'autorité)")] + [
    (s.value, s.label) for s in Status if s not in (Status.BROUILLON, Status.VALIDEE_AUTORITE)
]


def _scrutins_of(key, commune):
    """The scrutins a commune's lists offer, latest first (ScrutinQuerySet.concernant: the scope rule)."""
    return Scrutin.objects.concernant(commune).order_by("-date_tour1")


def _bureaux_of(key, commune):
    return BureauDeVote.objects.filter(commune=commune).order_by("numero")


# The two queries above as statements compiled once per process (procuration.fixed_select): the
# queue builds its filter options on every request, and building these querysets (the scope's
# EXISTS, the ordering) cost more Python than running them (issue 16, docs/performance.md).
_SCRUTINS_OF = CompiledOnce(_scrutins_of, "commune")
_BUREAUX_OF = CompiledOnce(_bureaux_of, "commune")


class QueueFilterForm(DsfrBaseForm):
    """The queue's filters. The options of « Scrutin » and « Bureau de vote » (the commune's) are read
    by statements compiled once per process, on each form; the querysets that check a submitted value
    are built only when one is submitted (an empty choice is « Tous » and reads none)."""

    scrutin = forms.ModelChoiceField(label="Scrutin", queryset=Scrutin.objects.none(), required=False, empty_label="Tous")
    status = forms.ChoiceField(label="Statut", choices=STATUS_CHOICES, required=False, initial=Status.VALIDEE_AUTORITE)
    bureau = forms.ModelChoiceField(label="Bureau de vote", queryset=BureauDeVote.objects.none(), required=False,
                                    empty_label="Tous")
    age = forms.ChoiceField(label="Ancienneté", choices=AGE_CHOICES, required=False)

    _SCOPED = (("scrutin", _SCRUTINS_OF, _scrutins_of), ("bureau", _BUREAUX_OF, _bureaux_of))

    def __init__(self, *args, commune, **kwargs):  # a Commune or its pk
        super().__init__(*args, **kwargs)
        commune = getattr(commune, "pk", commune)
        for name, compiled, build in self._SCOPED:
            field = self.fields[name]
            if self.is_bound and field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name)) \
                    not in field.empty_values:
                field.queryset = build(None, commune)  # what checks the submitted value
            choice = field.iterator(field).choice  # the options as ModelChoiceIterator makes them, read once
            field.widget.choices = [("", field.empty_label)] if field.empty_label is not None else []
            field.widget.choices += [choice(obj) for obj in compiled.all(commune=commune)]


class SearchForm(DsfrBaseForm):
    """Search the commune's procurations, every status: mairie.listing.search_queryset reads it."""

    q = forms.CharField(
        label="Référence, nom ou NNE", required=False, max_length=200,
        help_text="Nom ou prénoms du mandant ou du mandataire, entiers ou par leur début : « mart » trouve "
                  "Martin et Martinez, « dupont lea » Léa Dupont (accents et majuscules indifférents ; un nom "
                  "composé s'écrit comme sur la liste électorale : « le coeur » ou « lecoeur »). Ou la référence "
                  "d'enregistrement (6 caractères), ou le numéro national d'électeur (8 ou 9 chiffres).",
    )
    date_naissance = forms.DateField(
        label="Date de naissance", required=False, help_text="Du mandant ou du mandataire.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.ChoiceField(
        label="Statut", required=False,
        choices=[("", "Tous les statuts")] + [(s.value, s.label) for s in Status if s != Status.BROUILLON],
    )

    def clean_q(self):
        from procuration.normalize import NNE_FORMAT_MESSAGE, strip_nne

        q = " ".join(self.cleaned_data.get("q", "").split())
        digits = strip_nne(q)
        if digits and digits.isascii() and digits.isdigit() and not 8 <= len(digits) <= 9:
            raise ValidationError(NNE_FORMAT_MESSAGE)
        return q

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("q") and not data.get("date_naissance"):
            raise ValidationError("Saisissez une référence, un nom, un numéro national d'électeur ou une date de naissance.")
        return data


class InvalidationForm(DsfrBaseForm):
    motif = forms.ChoiceField(label="Motif de l'invalidation", choices=InvalidationMotif.choices, widget=forms.RadioSelect)
    detail = forms.CharField(
        label="Précision", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoire pour « Autre motif ». Le mandant la recevra telle quelle : écrivez en termes simples.",
    )

    def clean(self):
        data = super().clean()
        if data.get("motif") == InvalidationMotif.AUTRE and not (data.get("detail") or "").strip():
            self.add_error("detail", "Précisez le motif de l'invalidation.")
        return data


class ValidationForm(DsfrBaseForm):
    forcer = forms.BooleanField(
        label="Je valide malgré les contrôles non conformes, après vérification", required=False,
        help_text="Jamais possible quand le mandataire a atteint le plafond de procurations (article L.73).",
    )
    motif_forcage = forms.CharField(
        label="Motif de la validation malgré les contrôles", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoire si vous cochez la case : il figure dans l'historique de la procuration.",
    )


class RegistreForm(DsfrBaseForm):
    scrutin = forms.ModelChoiceField(label="Scrutin", queryset=Scrutin.objects.none(), empty_label=None)
    tour = forms.TypedChoiceField(label="Tour", choices=Tour.choices, coerce=int)
    bureau = forms.ModelChoiceField(label="Bureau de vote", queryset=BureauDeVote.objects.none(), required=False,
                                    empty_label="Tous les bureaux (une partie par bureau)")
    format = forms.ChoiceField(label="Format", choices=ExportJob.Format.choices, widget=forms.RadioSelect,
                               initial=ExportJob.Format.PDF)
    nouveaux_seulement = forms.BooleanField(
        label="Seulement les procurations nouvelles depuis la dernière édition", required=False,
    )

    def __init__(self, *args, commune, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scrutin"].queryset = _scrutins_of(None, commune)
        self.fields["bureau"].queryset = _bureaux_of(None, commune)

    def clean(self):
        data = super().clean()
        scrutin, tour = data.get("scrutin"), data.get("tour")
        if scrutin and tour == 2 and not scrutin.date_tour2:
            self.add_error("tour", "Ce scrutin n'a pas de second tour.")
        return data


class AgentForm(DsfrBaseForm):
    """A mairie agent's account. The identifiant is generated at creation (procuration.activation):
    the administrator neither chooses it nor learns which identifiants exist elsewhere."""

    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    email = forms.EmailField(label="Adresse électronique professionnelle",
                             help_text="Le lien d'activation du compte y est envoyé.")

    def __init__(self, *args, commune, instance=None, **kwargs):
        self.instance = instance
        self.commune = commune
        if instance is not None:
            kwargs.setdefault("initial", {
                "first_name": instance.first_name, "last_name": instance.last_name, "email": instance.email,
            })
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        # Only this commune's agents: another commune's accounts are not revealed.
        clash = User.objects.filter(email__iexact=email, role=Role.AGENT_MAIRIE, commune=self.commune)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("Un autre agent de la commune utilise déjà cette adresse.")
        return email

    def apply(self, user) -> list[str]:
        """Copy the cleaned values onto user; returns the changed field names."""
        changed = []
        for name in ("first_name", "last_name", "email"):
            value = self.cleaned_data[name].strip()
            if getattr(user, name) != value:
                setattr(user, name, value)
                changed.append(name)
        return changed


class CommuneSettingsForm(DsfrBaseForm):
    auto_validation = forms.BooleanField(
        label="Valider automatiquement les procurations dont tous les contrôles sont conformes", required=False,
        help_text="Modèle en vigueur depuis 2022 : la procuration est enregistrée dès la validation par l'autorité "
        "si tous les contrôles automatiques sont satisfaits. Elle figure au registre et son historique indique "
        "« Validation automatique ». Les autres restent dans la file d'attente.",
    )


class AlertPreferenceForm(DsfrBaseForm):
    nouvelles_arrivees = forms.BooleanField(
        label="Nouvelles procurations à contrôler (un courriel groupé, au plus un par heure)", required=False,
    )
    rappels_scrutin = forms.BooleanField(
        label="Rappels à J-7, J-2 et J-1 avant un scrutin tant que des procurations attendent", required=False,
    )
    inscriptions_en_retard = forms.BooleanField(
        label="Demandes d'inscription sur les listes électorales non décidées 5 jours après leur dépôt", required=False,
    )


def mairie_cerfa_form_class():
    """The portal-neutral CERFA form (procuration.cerfa) plus what the mairie copies from the paper:
    the authority that established it. Built lazily so the mairie works without that module."""
    from procuration.cerfa import CerfaForm

    class MairieCerfaForm(CerfaForm):
        autorite = forms.CharField(
            label="Autorité qui a établi le formulaire (nom, prénom, qualité, unité ou juridiction)", max_length=250,
            help_text="Telle qu'indiquée dans le cadre réservé à l'autorité habilitée.",
        )
        date_etablissement = forms.DateField(
            label="Date d'établissement par l'autorité", widget=forms.DateInput(attrs={"type": "date"}),
        )

        def __init__(self, *args, commune, **kwargs):
            self.commune = commune
            super().__init__(*args, **kwargs)
            self.fields["mandant_commune"].initial = commune.code_insee

        def clean_date_etablissement(self):
            from django.utils import timezone

            value = self.cleaned_data["date_etablissement"]
            if value > timezone.localdate():
                raise ValidationError("La date d'établissement ne peut pas être dans le futur.")
            return value

        def clean(self):
            data = super().clean()
            if self.mandant is not None and self.mandant.commune_id != self.commune.pk:
                self.add_error("mandant_commune", "La mairie ne saisit que les procurations des électeurs de sa commune.")
            return data

    return MairieCerfaForm
