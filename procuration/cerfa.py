"""Paper procurations: the fields of CERFA n°14952*03 (and n°12668*03, its counter version),
and the function that records one. Portal-neutral: the police counter and the mairie both key
forms in with `CerfaForm` and `enregistrer_cerfa`.

The mandant and the mandataire must be found in the electoral register (Electeur): the mandant
by NNE + date of birth or by état civil + commune d'inscription; the mandataire by NNE + date
of birth or by nom, prénoms, sexe, date of birth + commune de vote (service-public F1604).
"""


from django import forms
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from procuration import checks, registry, validity
from procuration.exceptions import DomainError
from procuration.models import IdentiteVerifiee, Origine, Portee, Procuration, Scrutin, Sexe
from procuration.models.procuration import Etablissement

MODELES = [("14952*03", "CERFA n°14952*03"), ("12668*03", "CERFA n°12668*03 (guichet)")]


def _fold(value: str) -> str:
    return registry.fold(value)


class CerfaForm(DsfrBaseForm):
    modele = forms.ChoiceField(label="Formulaire", choices=MODELES, initial="14952*03")

    # Le mandant
    mandant_nne = forms.CharField(label="Numéro national d'électeur du mandant (facultatif)", required=False, max_length=20)
    mandant_nom = forms.CharField(label="Nom de naissance du mandant", max_length=150)
    mandant_nom_usage = forms.CharField(label="Nom d'usage (facultatif)", required=False, max_length=150)
    mandant_prenoms = forms.CharField(label="Prénoms du mandant", max_length=200)
    mandant_sexe = forms.ChoiceField(label="Sexe du mandant", choices=Sexe.choices, widget=forms.RadioSelect)
    mandant_date_naissance = forms.DateField(
        label="Date de naissance du mandant", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mandant_lieu_naissance = forms.CharField(label="Lieu de naissance du mandant", max_length=150)
    mandant_commune = forms.CharField(
        label="Commune d'inscription du mandant (code INSEE)", min_length=5, max_length=5,
        help_text="Les 5 caractères du code officiel géographique, par exemple 81005.",
    )
    email_contact = forms.EmailField(label="Adresse électronique du mandant (facultatif)", required=False)

    # Le mandataire
    mandataire_nne = forms.CharField(label="Numéro national d'électeur du mandataire", required=False, max_length=20)
    mandataire_date_naissance = forms.DateField(
        label="Date de naissance du mandataire", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    mandataire_nom = forms.CharField(label="Nom de naissance du mandataire (sans NNE)", required=False, max_length=150)
    mandataire_prenoms = forms.CharField(label="Prénoms du mandataire (sans NNE)", required=False, max_length=200)
    mandataire_sexe = forms.ChoiceField(
        label="Sexe du mandataire (sans NNE)", choices=[("", "—"), *Sexe.choices], required=False
    )
    mandataire_commune = forms.CharField(
        label="Commune de vote du mandataire, code INSEE (sans NNE)", required=False, max_length=5
    )
    email_mandataire = forms.EmailField(
        label="Adresse électronique du mandataire (facultatif)", required=False,
        help_text="Le mandataire y sera informé quand la procuration sera établie et quand elle prendra fin.",
        error_messages={"invalid": "Saisissez une adresse électronique valide pour le mandataire, par exemple "
                                   "nom@exemple.fr, ou laissez le champ vide."},
    )

    # La portée
    portee = forms.ChoiceField(label="Portée", choices=Portee.choices, widget=forms.RadioSelect, initial=Portee.SCRUTIN)
    scrutin = forms.ModelChoiceField(label="Scrutin", queryset=Scrutin.objects.none(), required=False)
    tour1 = forms.BooleanField(label="1er tour", required=False)
    tour2 = forms.BooleanField(label="2nd tour", required=False)
    valid_from = forms.DateField(label="Valable du (durée limitée)", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    valid_until = forms.DateField(label="Valable jusqu'au (durée limitée)", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    etablissement = forms.ChoiceField(
        label="Procuration établie", choices=Etablissement.choices, initial=Etablissement.FRANCE, widget=forms.RadioSelect
    )

    SECTIONS = [
        ("Formulaire", "", ["modele"]),
        ("Le mandant", "Tel qu'inscrit sur la liste électorale de sa commune.", [
            "mandant_nne", "mandant_nom", "mandant_nom_usage", "mandant_prenoms", "mandant_sexe",
            "mandant_date_naissance", "mandant_lieu_naissance", "mandant_commune", "email_contact",
        ]),
        ("Le mandataire", "Son numéro national d'électeur et sa date de naissance ; à défaut, son nom, ses "
         "prénoms, son sexe, sa date de naissance et sa commune de vote.", [
            "mandataire_nne", "mandataire_date_naissance", "mandataire_nom", "mandataire_prenoms",
            "mandataire_sexe", "mandataire_commune", "email_mandataire",
        ]),
        ("La procuration", "Pour un scrutin (un tour ou les deux) ou pour une durée limitée.", [
            "portee", "scrutin", "tour1", "tour2", "valid_from", "valid_until", "etablissement",
        ]),
    ]

    def sections(self):
        """(title, hint, bound fields) in the order of the paper form, for the templates."""
        return [(title, hint, [self[name] for name in names]) for title, hint, names in self.SECTIONS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        scrutins = Scrutin.objects.filter(Q(date_tour1__gte=today) | Q(date_tour2__gte=today))
        if getattr(self, "commune", None) is not None:  # the mairie keys in its own electors' forms only
            scrutins = scrutins.concernant(self.commune)
        self.fields["scrutin"].queryset = scrutins
        self.mandant = None
        self.mandataire = None

    def _nne(self, name: str) -> str:
        raw = self.cleaned_data.get(name) or ""
        if not raw.strip():
            return ""
        try:
            return registry.normalize_nne(raw)
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_mandant_nne(self):
        return self._nne("mandant_nne")

    def clean_mandataire_nne(self):
        return self._nne("mandataire_nne")

    def clean_mandant_commune(self):
        return self.cleaned_data["mandant_commune"].strip().upper()

    def clean_mandataire_commune(self):
        return (self.cleaned_data.get("mandataire_commune") or "").strip().upper()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        self._resolve_mandant(data)
        self._resolve_mandataire(data)
        self._resolve_validity(data)
        if self.mandant and self.mandataire:
            try:  # the domain's one rule, on the field that found the mandataire (NNE, else état civil)
                checks.raise_for_mandataire(self.mandant, self.mandataire)
            except DomainError as exc:
                self.add_error("mandataire_nne" if data["mandataire_nne"] else "mandataire_nom", exc.message)
        return data

    def _resolve_mandant(self, data):
        if data["mandant_nne"]:
            e = registry.find_mandataire_by_nne(data["mandant_nne"], data["mandant_date_naissance"])
            if e is None or _fold(data["mandant_nom"]) not in (_fold(e.nom), _fold(e.nom_usage)):
                self.add_error(
                    "mandant_nne",
                    "Aucun électeur inscrit ne correspond à ce numéro, cette date de naissance et ce nom.",
                )
                return
            if e.commune.code_insee != data["mandant_commune"]:
                self.add_error("mandant_commune", "Le mandant n'est pas inscrit dans cette commune.")
                return
        else:
            e = registry.find_electeur_by_etat_civil(
                data["mandant_nom"], data["mandant_prenoms"], data["mandant_sexe"], data["mandant_date_naissance"],
                data["mandant_commune"],
            )
            if e is None:
                self.add_error(
                    None,
                    "Le mandant n'a pas été trouvé, ou pas de façon unique, sur la liste électorale de cette commune "
                    "(nom, prénoms, sexe, date de naissance). Vérifiez la saisie ou indiquez son numéro national d'électeur.",
                )
                return
        self.mandant = e

    def _resolve_mandataire(self, data):
        if data["mandataire_nne"]:
            e = registry.find_mandataire_by_nne(data["mandataire_nne"], data["mandataire_date_naissance"])
            if e is None:
                self.add_error(
                    "mandataire_nne", "Aucun électeur inscrit ne correspond à ce numéro et à cette date de naissance."
                )
                return
        else:
            missing = [f for f in ("mandataire_nom", "mandataire_prenoms", "mandataire_sexe", "mandataire_commune") if not data.get(f)]
            if missing:
                for f in missing:
                    self.add_error(f, "Sans numéro national d'électeur, ce champ est obligatoire.")
                return
            e = registry.find_electeur_by_etat_civil(
                data["mandataire_nom"], data["mandataire_prenoms"], data["mandataire_sexe"],
                data["mandataire_date_naissance"], data["mandataire_commune"],
            )
            if e is None:
                self.add_error(
                    None,
                    "Le mandataire n'a pas été trouvé, ou pas de façon unique, sur la liste électorale de cette commune "
                    "(nom, prénoms, sexe, date de naissance). Vérifiez la saisie ou indiquez son numéro national d'électeur.",
                )
                return
        self.mandataire = e

    def _resolve_validity(self, data):
        """The period, by the domain's one rule (procuration.validity), its error on its field."""
        try:
            data["valid_from"], data["valid_until"] = validity.periode(
                portee=data["portee"], scrutin=data.get("scrutin"), tour1=bool(data.get("tour1")),
                tour2=bool(data.get("tour2")), valid_from=data.get("valid_from"), valid_until=data.get("valid_until"),
                etablissement=data["etablissement"], commune=self.mandant.commune if self.mandant else None,
            )
        except DomainError as exc:
            self.add_error(exc.field, exc.message)
            return
        if data["portee"] == Portee.DUREE:
            data["scrutin"] = None
            data["tour1"] = data["tour2"] = False


def enregistrer_cerfa(form: CerfaForm, identite: IdentiteVerifiee) -> Procuration:
    """Record a keyed-in paper form as an established procuration (origin « CERFA papier »): the
    officer at the counter, or the mairie copying the authority named on the paper, checked the
    mandant's identity. One domain call (Procuration.etablir): the same checks as an online demande,
    every step logged. No reference e-mail: the mandant did not ask online. Raises DomainError,
    leaving nothing."""
    data = form.cleaned_data
    with transaction.atomic():
        p = Procuration.objects.create(
            origine=Origine.CERFA_PAPIER,
            mandant=form.mandant,
            commune=form.mandant.commune,
            mandataire=form.mandataire,
            email_contact=data.get("email_contact") or "",
            email_mandataire=data.get("email_mandataire") or "",
            portee=data["portee"],
            scrutin=data.get("scrutin"),
            tour1=bool(data.get("tour1")),
            tour2=bool(data.get("tour2")),
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            etablissement=data["etablissement"],
        )
        p.etablir(identite, by=identite.by,
                  reason=f"Saisie d'un formulaire CERFA n°{data.get('modele') or MODELES[0][0]}")
    return p
