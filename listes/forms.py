from django import forms
from dsfr.forms import DsfrBaseForm

from listes import rules
from listes.models import MotifRattachement, Piece, PieceKind
from procuration.exceptions import DomainError
from procuration.models import Commune


class PieceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.original_name} (déposée le {obj.created_at:%d/%m/%Y})"


class _DossierForm(DsfrBaseForm):
    """Common part of the ILE and RCO forms. For each required pièce the usager uploads a file
    or reuses one already kept in the espace."""

    PIECES: tuple[str, ...] = ()

    commune = forms.ModelChoiceField(
        label="Commune", queryset=Commune.objects.all(), empty_label="Choisissez la commune",
    )
    lieu_naissance = forms.CharField(label="Commune de naissance", max_length=150)
    departement_naissance = forms.CharField(
        label="Département (ou pays, si né à l'étranger) de naissance", max_length=150, required=False
    )
    adresse = forms.CharField(label="Adresse (numéro et voie)", max_length=300)
    code_postal = forms.RegexField(
        label="Code postal", regex=r"^\d{5}$", error_messages={"invalid": "Le code postal compte 5 chiffres."}
    )
    ville = forms.CharField(label="Ville", max_length=150)
    telephone = forms.CharField(label="Téléphone (facultatif)", max_length=20, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for kind in self.PIECES:
            label = PieceKind(kind).label
            self.fields[f"piece_{kind}"] = forms.FileField(
                label=f"{label} — nouveau fichier (PDF, JPEG ou PNG)", required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
            )
            existing = Piece.objects.filter(owner=user, kind=kind)
            if existing.exists():
                self.fields[f"piece_{kind}_existante"] = PieceChoiceField(
                    label=f"… ou réutiliser une pièce de votre espace ({label.split(' (')[0].lower()})",
                    queryset=existing, required=False, empty_label="Aucune",
                )

    def clean(self):
        cleaned = super().clean()
        self.new_pieces = []  # (kind, upload, mime)
        self.reused_pieces = []
        for kind in self.PIECES:
            upload = cleaned.get(f"piece_{kind}")
            reused = cleaned.get(f"piece_{kind}_existante")
            if upload:
                try:
                    mime = rules.check_piece(upload)
                except DomainError as e:
                    self.add_error(f"piece_{kind}", e.message)
                    continue
                self.new_pieces.append((kind, upload, mime))
            elif reused:
                self.reused_pieces.append(reused)
            elif f"piece_{kind}" not in self.errors:
                self.add_error(f"piece_{kind}", f"Joignez ce justificatif : {PieceKind(kind).label.lower()}.")
        return cleaned


_UE_HINT = "Citoyens d'un autre État membre de l'Union européenne seulement (listes complémentaires)."


class IleForm(_DossierForm):
    PIECES = (PieceKind.IDENTITE, PieceKind.ATTACHE)

    nationalite = forms.ChoiceField(
        label="Votre nationalité", widget=forms.RadioSelect, initial="FR",
        choices=[("FR", "Française"), ("UE", "D'un autre État membre de l'Union européenne"),
                 ("AUTRE", "Autre nationalité")],
    )
    etat_membre = forms.ChoiceField(
        label="État membre de l'Union européenne dont vous avez la nationalité", required=False,
        help_text="Seulement si vous avez la nationalité d'un autre État membre de l'Union européenne.",
        choices=[("", "Choisissez l'État membre")]
        + sorted(rules.ETATS_MEMBRES_UE.items(), key=lambda item: item[1]),
    )
    complementaires = forms.MultipleChoiceField(
        label="Listes complémentaires demandées (ressortissants de l'Union européenne)", required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(rules.COMPLEMENTAIRE_MUNICIPALES, "Liste complémentaire pour les élections municipales"),
                 (rules.COMPLEMENTAIRE_EUROPEENNES, "Liste complémentaire pour les élections européennes")],
        help_text="Un citoyen de l'Union européenne vote aux élections municipales et européennes, pas aux autres.",
    )
    # The EU citizen's written declaration (LO227-4; loi 77-729 art. 2-3): required by
    # listes.rules.ile_declarations for a non-French nationality only, so optional for the field itself.
    declaration_nationalite = forms.BooleanField(
        label=rules.DECLARATIONS_UE["declaration_nationalite"], required=False, help_text=_UE_HINT,
    )
    declaration_adresse = forms.BooleanField(
        label=rules.DECLARATIONS_UE["declaration_adresse"], required=False, help_text=_UE_HINT,
    )
    declaration_droit_de_vote = forms.BooleanField(
        label=rules.DECLARATIONS_UE["declaration_droit_de_vote"], required=False, help_text=_UE_HINT,
    )
    declaration_vote_en_france = forms.BooleanField(
        label=rules.DECLARATIONS_UE["declaration_vote_en_france"], required=False,
        help_text="Citoyens de l'Union européenne qui demandent la liste complémentaire pour les élections "
                  "européennes seulement.",
    )
    nom_usage = forms.CharField(label="Nom d'usage (facultatif)", max_length=150, required=False)
    motif_rattachement = forms.ChoiceField(
        label="Votre attache avec la commune", choices=MotifRattachement.choices, widget=forms.RadioSelect
    )
    field_order = [
        "commune", "nationalite", "etat_membre", "complementaires", *rules.DECLARATIONS_UE, "motif_rattachement",
        "nom_usage", "lieu_naissance", "departement_naissance", "adresse", "code_postal", "ville", "telephone",
    ]
    # Asked of a citizen of another EU member state only: marked for listes/static/listes/ile.js, which
    # shows them once « D'un autre État membre » is chosen (without script they all show; clean asks
    # them of an EU citizen only).
    UE_FIELDS = ("etat_membre", "complementaires", *rules.DECLARATIONS_UE)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        for name in self.UE_FIELDS:
            self.fields[name].widget.attrs["data-nationalite"] = "UE"

    def clean(self):
        """The nationality gives the list(s) (listes.rules.ile_listes) and the declarations required
        (listes.rules.ile_declarations); the commune's next scrutin gives the online deadline and the
        age (listes.rules): each error on its field. `self.declarations`: what the télédossier keeps,
        the declarations required and made (never one a French national ticked)."""
        cleaned = super().clean()
        self.scrutin = None
        self.listes = None
        self.declarations = dict.fromkeys(rules.DECLARATIONS_UE, False)
        nationalite = cleaned.get("nationalite")
        if nationalite == "UE" and not cleaned.get("etat_membre"):
            self.add_error("etat_membre", "Choisissez l'État membre de l'Union européenne dont vous avez la nationalité.")
        elif nationalite:
            code = {"FR": rules.FRANCAISE, "UE": cleaned.get("etat_membre")}.get(nationalite, "")
            try:
                self.listes = rules.ile_listes(code, cleaned.get("complementaires") or ())
            except DomainError as e:
                self.add_error(e.field, e.message)
            else:
                for declaration in rules.ile_declarations(self.listes):
                    self.declarations[declaration.field] = bool(cleaned.get(declaration.field))
                for error in rules.ile_declaration_errors(self.listes, cleaned):
                    self.add_error(error.field, error.message)
        commune = cleaned.get("commune")
        if commune is not None:
            try:
                self.scrutin = rules.check_ile_deadline(commune)
                rules.check_ile_age(self.user.birthdate, self.scrutin)
            except DomainError as e:
                self.add_error(e.field, e.message)
        return cleaned


class RcoForm(_DossierForm):
    PIECES = (PieceKind.IDENTITE, PieceKind.LIVRET)

    nationalite_francaise = forms.BooleanField(
        label="Je déclare être de nationalité française", required=True,
        error_messages={"required": "Le recensement citoyen concerne les personnes de nationalité française."},
    )
    pere_nom = forms.CharField(label="Nom du père", max_length=150, required=False)
    pere_prenoms = forms.CharField(label="Prénoms du père", max_length=200, required=False)
    mere_nom = forms.CharField(label="Nom de naissance de la mère", max_length=150, required=False)
    mere_prenoms = forms.CharField(label="Prénoms de la mère", max_length=200, required=False)
    field_order = [
        "commune", "nationalite_francaise", "lieu_naissance", "departement_naissance", "pere_nom", "pere_prenoms",
        "mere_nom", "mere_prenoms", "adresse", "code_postal", "ville", "telephone",
    ]

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("pere_nom") or cleaned.get("mere_nom")):
            self.add_error("pere_nom", "Indiquez au moins l'un de vos parents (nom et prénoms).")
        return cleaned


class SearchForm(DsfrBaseForm):
    q = forms.CharField(label="Numéro de télédossier ou nom", required=False, max_length=100)
    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "À traiter"), ("transmis", "Transmis"), ("recu", "Reçu"), ("clos", "Clos"), ("tous", "Tous"),
                 ("retard", f"Inscription non décidée après {rules.ILE_DECISION_DAYS} jours")],
    )


class CommentForm(DsfrBaseForm):
    comment = forms.CharField(
        label="Commentaire à l'usager (envoyé par courriel et affiché dans son espace)",
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
    )


class RefuseForm(DsfrBaseForm):
    motif = forms.CharField(
        label="Motif du refus", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
        error_messages={"required": "Indiquez le motif du refus : il est notifié à l'usager."},
    )
    comment = forms.CharField(
        label="Commentaire complémentaire (facultatif)", widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000, required=False,
    )


class DocumentForm(DsfrBaseForm):
    title = forms.CharField(label="Intitulé du document", max_length=200, initial="Attestation")
    file = forms.FileField(
        label="Fichier PDF (1024 Ko au maximum)",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            rules.check_document(upload)
        except DomainError as e:
            raise forms.ValidationError(e.message) from None
        return upload


class AgentCreateForm(DsfrBaseForm):
    """The identifiant is generated and the agent chooses their password through an activation
    link (procuration.activation): the administrator knows neither."""

    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Le lien d'activation du compte y est envoyé : l'agent y choisit son mot de passe, puis configure "
        "sa double authentification.",
    )


class ConfigForm(DsfrBaseForm):
    signataire = forms.CharField(label="Nom du signataire", max_length=200, required=False)
    qualite_signataire = forms.CharField(label="Qualité du signataire", max_length=200, required=False)
    tampon = forms.FileField(label="Image du tampon de la mairie (PNG ou JPEG)", required=False)
    signature = forms.FileField(label="Image de la signature (PNG ou JPEG)", required=False)

    def _image(self, name):
        upload = self.cleaned_data.get(name)
        if upload:
            try:
                rules.check_image(upload)
            except DomainError as e:
                raise forms.ValidationError(e.message) from None
        return upload

    def clean_tampon(self):
        return self._image("tampon")

    def clean_signature(self):
        return self._image("signature")
