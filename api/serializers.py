"""What the API shows, and the filters it accepts (each bad filter answers 400 naming the field)."""

from django.core import signing
from django.urls import reverse
from rest_framework import serializers

from api.feed import CURSOR_PATTERN
from listes.models import Demarche, Etat
from procuration.models import Status

FILE_SALT = "api.fichier"


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()), required=False,
        help_text="Un élément par champ en cause : {field, message}.",
    )


class StrictQuery(serializers.Serializer):
    """Query-string filters: an unknown parameter is an error too (a typo must not widen the answer)."""

    allowed_extra = ("page",)

    def to_internal_value(self, data):
        unknown = [k for k in data if k not in self.fields and k not in self.allowed_extra]
        if unknown:
            raise serializers.ValidationError({k: ["Paramètre inconnu."] for k in unknown})
        empty = [k for k in data if k in self.fields and data.get(k) == ""]
        if empty:  # `?status=` must not silently mean "any status"
            raise serializers.ValidationError({k: ["Valeur vide : donnez une valeur ou retirez ce paramètre."]
                                               for k in empty})
        return super().to_internal_value(data)


class ProcurationFilter(StrictQuery):
    scrutin = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text="Identifiant du scrutin.")
    bureau = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1, help_text="Numéro du bureau de vote du mandant.")
    status = serializers.ChoiceField(required=False, choices=[s for s in Status.values if s != Status.BROUILLON])
    updated_since = serializers.DateTimeField(required=False, help_text="ISO 8601 avec fuseau, p. ex. 2026-12-01T00:00:00+01:00.")


class TeledossierFilter(StrictQuery):
    demarche = serializers.ChoiceField(required=False, choices=Demarche.choices)
    etat = serializers.ChoiceField(required=False, choices=Etat.choices)
    updated_since = serializers.DateTimeField(required=False)


class FeedQuery(StrictQuery):
    allowed_extra = ()
    cursor = serializers.RegexField(CURSOR_PATTERN, required=False,
                                    help_text="Curseur opaque rendu par l'appel précédent (à renvoyer tel quel).",
                                    error_messages={"invalid": "Curseur invalide : reprenez celui que l'appel "
                                                               "précédent a rendu."})
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=200)


class ElecteurSerializer(serializers.Serializer):
    nne = serializers.CharField()
    nom = serializers.CharField()
    nom_usage = serializers.CharField()
    prenoms = serializers.CharField()
    date_naissance = serializers.DateField()
    commune_insee = serializers.CharField(source="commune.code_insee")
    bureau = serializers.IntegerField(source="bureau.numero", allow_null=True, default=None)


class ProcurationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    # The effective status: a demande past its two months is « expiree » before the task records it.
    status = serializers.ChoiceField(choices=Status.choices, source="statut_effectif")
    status_label = serializers.CharField(source="statut_effectif_label")
    origine = serializers.CharField()
    commune_insee = serializers.CharField(source="commune.code_insee")
    mandant = ElecteurSerializer()
    mandataire = ElecteurSerializer()
    portee = serializers.CharField()
    scrutin = serializers.IntegerField(source="scrutin_id", allow_null=True)
    scrutin_libelle = serializers.CharField(source="scrutin.libelle", allow_null=True, default=None)
    tour1 = serializers.BooleanField()
    tour2 = serializers.BooleanField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    etablissement = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    autorite_at = serializers.DateTimeField(allow_null=True)
    autorite_label = serializers.CharField()
    mairie_at = serializers.DateTimeField(allow_null=True)
    invalidation_motif = serializers.CharField()
    annulation_motif = serializers.CharField()  # status « annulee »: why it is void by law
    motif_detail = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


def file_url(request, kind: str, obj) -> str:
    """A link that opens one file for API_FILE_URL_MAX_AGE_SECONDS, for this key only (api.views.fichier)."""
    token = signing.dumps({"k": request.auth.pk, "t": kind, "id": obj.pk}, salt=FILE_SALT, compress=True)
    return request.build_absolute_uri(reverse("api:fichier", args=[token]))


# A file of a télédossier: `url = signed_url()`, declared last by each subclass so that it stays the
# last key, is its link for the calling key; `file_kind` is what api.views.fichier opens. (A comment,
# not a docstring: drf-spectacular would put a docstring in the schema of both.)
class SignedFileSerializer(serializers.Serializer):
    file_kind: str

    def get_url(self, obj) -> str:
        return file_url(self.context["request"], self.file_kind, obj)


def signed_url():
    return serializers.SerializerMethodField(method_name="get_url",
                                             help_text="Lien de téléchargement signé, valable quelques minutes.")


class PieceSerializer(SignedFileSerializer):
    file_kind = "piece"
    id = serializers.IntegerField()
    kind = serializers.CharField()
    original_name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = signed_url()


class DocumentSerializer(SignedFileSerializer):
    file_kind = "document"
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    url = signed_url()


class EventSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField()


class DeclarationSerializer(serializers.Serializer):
    """One statement of an EU citizen's written declaration (listes.rules.ile_declarations)."""

    champ = serializers.CharField(help_text="p. ex. declaration_droit_de_vote")
    texte = serializers.CharField(help_text="« Je déclare sur l'honneur … »")
    sources = serializers.ListField(child=serializers.CharField(),
                                    help_text="Textes qui l'exigent (LO227-4 ; loi 77-729, art. 2-3).")
    faite = serializers.BooleanField(help_text="Cochée par l'usager.")

    def to_representation(self, instance):
        declaration, made = instance  # Teledossier.declarations_ue: (listes.rules.Declaration, made)
        return super().to_representation({"champ": declaration.field, "texte": declaration.text,
                                          "sources": list(declaration.sources), "faite": made})


class TeledossierSerializer(serializers.Serializer):
    numero = serializers.CharField()
    demarche = serializers.ChoiceField(choices=Demarche.choices)
    etat = serializers.ChoiceField(choices=Etat.choices)
    etat_label = serializers.CharField(source="get_etat_display")
    decision = serializers.CharField()
    motif_refus = serializers.CharField()
    email = serializers.EmailField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    nom = serializers.CharField()
    nom_usage = serializers.CharField()
    prenoms = serializers.CharField()
    sexe = serializers.CharField()
    date_naissance = serializers.DateField()
    lieu_naissance = serializers.CharField()
    adresse = serializers.CharField()
    code_postal = serializers.CharField()
    ville = serializers.CharField()
    scrutin = serializers.IntegerField(source="scrutin_id", allow_null=True)
    motif_rattachement = serializers.CharField()
    nationalite = serializers.CharField(help_text="Code ISO de la nationalité (FR : liste principale).")
    complementaire_municipales = serializers.BooleanField(help_text="Liste complémentaire municipale demandée.")
    complementaire_europeennes = serializers.BooleanField(help_text="Liste complémentaire européenne demandée.")
    declaration_ue = DeclarationSerializer(
        many=True, source="declarations_ue",
        help_text="La déclaration écrite d'un citoyen d'un autre État membre de l'Union européenne, chaque "
                  "énoncé exigé (vide pour un Français et pour le recensement).",
    )
    nne = serializers.CharField(source="electeur.nne", allow_null=True, default=None)


class TeledossierDetailSerializer(TeledossierSerializer):
    pieces = PieceSerializer(many=True, source="pieces.all")
    documents = DocumentSerializer(many=True, source="documents.all")
    events = EventSerializer(many=True, source="events.all")


class ChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="procuration ou teledossier")
    object_id = serializers.IntegerField(help_text="id de la procuration, ou de l'objet télédossier")
    numero = serializers.CharField(allow_null=True, help_text="numéro du télédossier (null pour une procuration)")
    event = serializers.CharField(help_text="p. ex. procuration.valider_mairie, teledossier.recevoir")
    state = serializers.CharField(help_text="statut (procuration) ou état (télédossier) après le changement")
    at = serializers.DateTimeField()


class FeedSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    next_cursor = serializers.CharField(help_text="À renvoyer tel quel au prochain appel.")
    has_more = serializers.BooleanField(help_text="Vrai : rappelez tout de suite avec next_cursor.")


class TransitionRequest(serializers.Serializer):
    """Documentation of the body; the guichet's own forms check it (listes.forms)."""

    action = serializers.ChoiceField(choices=["recevoir", "clore", "accepter", "refuser"])
    comment = serializers.CharField(required=False, help_text="Commentaire à l'usager (obligatoire sauf pour refuser).")
    motif = serializers.CharField(required=False, help_text="Motif du refus (action refuser).")


class TransitionResponse(serializers.Serializer):
    changed = serializers.BooleanField(help_text="Faux si le dossier était déjà dans l'état demandé.")
    teledossier = TeledossierDetailSerializer()


class DocumentRequest(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    file = serializers.FileField(help_text="PDF, 1024 Ko au plus.")
