import datetime
import functools

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator
from dsfr.forms import DsfrBaseForm

from mandant import services
from procuration import checks, normalize, validity
from procuration.exceptions import DomainError
from procuration.fixed_select import CompiledOnce, FixedSelect
from procuration.models import Electeur, Procuration, Scrutin, Sexe
from procuration.models.procuration import Etablissement, Portee

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def scrutin_label(s: Scrutin) -> str:
    label = f"{s.libelle} — 1er tour le {s.date_tour1:%d/%m/%Y}"
    if s.date_tour2:
        label += f", 2nd tour le {s.date_tour2:%d/%m/%Y}"
    return label


# The scrutins of the mandant's commune (the scope rule: Scrutin.objects.concernant), by date: built and
# compiled by the ORM once per process, then run with each commune (procuration/fixed_select.py).
_OFFER = CompiledOnce(lambda key, commune_id: Scrutin.objects.concernant(commune_id).order_by("date_tour1"),
                      "commune_id")


class ScrutinField(forms.ModelChoiceField):
    """The scrutin posted, read by its key with the statement written once per process (_SCRUTIN_BY_PK),
    not by a query the ORM builds (Scrutin.objects.all().get(pk=…)): the same instance, the same
    « invalid_choice » error for a key that is not a number, not a bigint or not a scrutin."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        if isinstance(value, Scrutin):
            value = value.pk
        try:
            pk = Scrutin._meta.pk.to_python(value)
        except ValidationError:
            pk = None
        found = _SCRUTIN_BY_PK([pk]) if pk is not None and -(2**63) <= pk < 2**63 else []
        if not found:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found[0]


class ValiditeForm(DsfrBaseForm):
    """Step 1: for which scrutin and tour(s), or for which period; established in France or abroad."""

    portee = forms.ChoiceField(
        label="Votre procuration vaut", choices=Portee.choices, widget=forms.RadioSelect, initial=Portee.SCRUTIN
    )
    scrutin = ScrutinField(
        label="Scrutin", queryset=Scrutin.objects.all(), required=False, empty_label="Choisissez un scrutin",
        error_messages={"invalid_choice": "Ce scrutin n'existe pas."},
    )
    tour1 = forms.BooleanField(label="1er tour", required=False)
    tour2 = forms.BooleanField(label="2nd tour", required=False)
    valid_from = forms.DateField(label="Du", required=False, widget=DATE_WIDGET,
                                 help_text="Premier jour de validité.")
    valid_until = forms.DateField(label="Au", required=False, widget=DATE_WIDGET,
                                  help_text="Au plus un an (trois ans pour une procuration établie à l'étranger).")
    etablissement = forms.ChoiceField(
        label="Où allez-vous faire établir la procuration ?", choices=Etablissement.choices, widget=forms.RadioSelect,
        initial=Etablissement.FRANCE,
        help_text="En France : commissariat, brigade de gendarmerie ou tribunal. À l'étranger : ambassade ou consulat.",
    )

    def __init__(self, *args, electeur, **kwargs):
        super().__init__(*args, **kwargs)
        self.electeur = electeur
        today = timezone.localdate()
        # Only the scrutins of the mandant's commune are offered (a partielle elsewhere is not); one
        # posted anyway gets validity.periode's message.
        # Read when the field is rendered (once: rendering iterates the choices twice), not for a
        # valid POST that redirects.
        self.fields["scrutin"].widget.choices = CallableChoiceIterator(functools.cache(
            lambda: [("", "Choisissez un scrutin")] + [
                (s.pk, scrutin_label(s)) for s in _OFFER.all(commune_id=electeur.commune_id) if s.derniere_date >= today
            ]
        ))

    def clean(self):
        data = super().clean()
        portee = data.get("portee")
        if portee not in Portee.values or self.errors:
            return data
        try:  # the domain's one rule for the period; its error goes on the field it names
            start, end = validity.periode(
                portee=portee, scrutin=data.get("scrutin"), tour1=bool(data.get("tour1")), tour2=bool(data.get("tour2")),
                valid_from=data.get("valid_from"), valid_until=data.get("valid_until"),
                etablissement=data.get("etablissement") or Etablissement.FRANCE, commune=self.electeur.commune,
            )
        except DomainError as exc:
            self.add_error(exc.field, exc.message)
            return data
        data["valid_from"], data["valid_until"] = start, end
        if portee == Portee.SCRUTIN:
            duplicate_field = "tour1" if data.get("tour1") else "tour2"
        else:
            data["scrutin"], data["tour1"], data["tour2"] = None, False, False
            duplicate_field = "valid_from"
        doublon = checks.duplicate_for_mandant(
            Procuration(mandant=self.electeur, valid_from=start, valid_until=end)
        )
        if doublon is not None:
            self.add_error(
                duplicate_field,
                f"Vous avez déjà une procuration en cours pour ces dates (référence {doublon.reference}, "
                f"{doublon.portee_label}). Résiliez-la d'abord pour en donner une nouvelle.",
            )
        return data

    def to_session(self) -> dict:
        d = self.cleaned_data
        return {
            "portee": d["portee"],
            "scrutin": d["scrutin"].pk if d.get("scrutin") else None,
            "tour1": bool(d.get("tour1")),
            "tour2": bool(d.get("tour2")),
            "valid_from": d["valid_from"].isoformat(),
            "valid_until": d["valid_until"].isoformat(),
            "etablissement": d["etablissement"],
        }


class MandataireForm(DsfrBaseForm):
    """Step 2: the mandataire, by NNE + date of birth, or by état civil + commune of vote."""

    mode = forms.ChoiceField(
        label="Comment identifiez-vous votre mandataire ?",
        choices=[("nne", "Avec son numéro national d'électeur (NNE) et sa date de naissance"),
                 ("etat_civil", "Avec son état civil et sa commune de vote")],
        widget=forms.RadioSelect, initial="nne",
    )
    nne = forms.CharField(label="Numéro national d'électeur (NNE)", required=False, max_length=20,
                          help_text="8 ou 9 chiffres, inscrits sur la carte électorale du mandataire.",
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    date_naissance_nne = forms.DateField(label="Date de naissance du mandataire", required=False, widget=DATE_WIDGET)
    nom = forms.CharField(label="Nom de naissance", required=False, max_length=150)
    prenoms = forms.CharField(label="Prénom(s)", required=False, max_length=200)
    sexe = forms.ChoiceField(label="Sexe", required=False, choices=Sexe.choices, widget=forms.RadioSelect)
    date_naissance = forms.DateField(label="Date de naissance", required=False, widget=DATE_WIDGET)
    commune = forms.CharField(label="Commune où vote le mandataire", required=False, max_length=150,
                              help_text="Nom de la commune ou code INSEE (5 caractères).")
    email_mandataire = forms.EmailField(
        label="Adresse électronique du mandataire (facultatif)", required=False,
        help_text="Votre mandataire sera informé(e) par courriel quand la procuration sera établie et quand elle "
                  "prendra fin. Sans adresse, il ou elle la verra en se connectant avec FranceConnect.",
        error_messages={"invalid": "Saisissez une adresse électronique valide pour le mandataire, par exemple "
                                   "nom@exemple.fr, ou laissez le champ vide."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, electeur, period: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.electeur = electeur
        self.period = period or {}
        self.mandataire = None

    def clean(self):
        data = super().clean()
        mode = data.get("mode")
        field = "nne" if mode == "nne" else "nom"
        if mode == "nne":
            nne = ""
            if not normalize.strip_nne(data.get("nne", "")):
                self.add_error("nne", "Saisissez le numéro national d'électeur du mandataire.")
            else:
                try:
                    nne = normalize.normalize_nne(data.get("nne", ""))
                except DomainError as e:
                    self.add_error("nne", e.message)
            if data.get("date_naissance_nne") is None and "date_naissance_nne" not in self.errors:
                self.add_error("date_naissance_nne", "Saisissez la date de naissance du mandataire.")
            if self.errors:
                return data
            self.mandataire = services.find_mandataire_by_nne(nne, data["date_naissance_nne"])
            if self.mandataire is None:
                self.add_error(
                    "nne",
                    "Aucun électeur ne correspond à ce numéro national d'électeur et à cette date de naissance. "
                    "Vérifiez la carte électorale de votre mandataire.",
                )
                return data
        elif mode == "etat_civil":
            required = {"nom": "Saisissez le nom de naissance du mandataire.",
                        "prenoms": "Saisissez le prénom du mandataire.",
                        "sexe": "Indiquez le sexe du mandataire.",
                        "date_naissance": "Saisissez la date de naissance du mandataire."}
            for name, message in required.items():
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, message)
            commune, message = services.find_commune(data.get("commune", ""))
            if commune is None:
                self.add_error("commune", message)
            if self.errors:
                return data
            self.mandataire = services.find_mandataire_by_etat_civil(
                data["nom"], data["prenoms"], data["sexe"], data["date_naissance"], commune
            )
            if self.mandataire is None:
                self.add_error(
                    "nom",
                    f"Aucun électeur inscrit à {commune.nom} ne correspond à cet état civil, ou plusieurs "
                    "homonymes y correspondent : vérifiez la saisie ou identifiez votre mandataire par son "
                    "numéro national d'électeur.",
                )
                return data
        else:
            return data
        m = self.mandataire
        try:  # the domain's one rule (its field "mandataire" is, here, the field that found them)
            checks.raise_for_mandataire(self.electeur, m)
        except DomainError as exc:
            self.add_error(field, exc.message)
            return data
        if self.period:
            p = build_procuration(self.electeur, {**self.period, "mandataire": m.pk}, mandataire=m)
            for result in checks.evaluate(p):
                if not result.ok and result.code != "mandant_inscrit":
                    self.add_error(field, result.message)
                    break
        return data


class RecapForm(DsfrBaseForm):
    """Step 3: review, contact address and attestation."""

    email_contact = forms.EmailField(
        label="Adresse électronique", help_text="La référence d'enregistrement et les suites de la demande y seront envoyées.",
        error_messages={"required": "Indiquez l'adresse électronique où recevoir la référence.",
                        "invalid": "Saisissez une adresse électronique valide, par exemple nom@exemple.fr."},
    )
    attestation = forms.BooleanField(
        label="J'atteste sur l'honneur l'exactitude des informations déclarées.",
        error_messages={"required": "Cochez l'attestation sur l'honneur pour confirmer la demande."},
    )


# The mandataire and the scrutin kept in the session, read on the récapitulatif and each step after
# the first by statements written once per process (procuration/fixed_select.py): the rows of
# Electeur.objects.select_related("commune").get(pk=…) and Scrutin.objects.filter(pk=…).first(),
# without building and compiling those queries on every request (issue 16, docs/performance.md).
_MANDATAIRE_BY_PK = FixedSelect(Electeur, ("commune",), 't."id" = %s')
_SCRUTIN_BY_PK = FixedSelect(Scrutin, (), 't."id" = %s')


def build_procuration(electeur, demande: dict, mandataire=None) -> Procuration:
    """An unsaved Procuration from the data kept in the session; `mandataire`: the elector of
    demande["mandataire"] when the caller has just found it (with its commune), not read again."""
    if mandataire is None or mandataire.pk != demande["mandataire"]:
        found = _MANDATAIRE_BY_PK([demande["mandataire"]])
        if not found:
            raise Electeur.DoesNotExist(f"Electeur {demande['mandataire']} introuvable.")
        mandataire = found[0]
    scrutin = None
    if demande.get("scrutin"):
        scrutin = next(iter(_SCRUTIN_BY_PK([demande["scrutin"]])), None)
    return Procuration(
        mandant=electeur,
        commune=electeur.commune,
        mandataire=mandataire,
        portee=demande["portee"],
        scrutin=scrutin,
        tour1=demande.get("tour1", False),
        tour2=demande.get("tour2", False),
        valid_from=datetime.date.fromisoformat(demande["valid_from"]),
        valid_until=datetime.date.fromisoformat(demande["valid_until"]),
        etablissement=demande["etablissement"],
        email_mandataire=demande.get("email_mandataire", ""),
    )
