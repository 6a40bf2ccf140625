"""The API v1 (docs/api.md). Thin views: the key's scope at the door, the commune's queryset, one domain call."""

from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from api import feed
from api.access import procurations_for, teledossiers_for
from api.authentication import ApiKeyAuthentication, HasScope, PerKeyRateLimit
from api.models import ApiKey, Scope
from api.serializers import (
    FILE_SALT,
    DocumentRequest,
    DocumentSerializer,
    FeedQuery,
    FeedSerializer,
    ProblemSerializer,
    ProcurationFilter,
    ProcurationSerializer,
    StrictQuery,
    TeledossierDetailSerializer,
    TeledossierFilter,
    TeledossierSerializer,
    TransitionRequest,
    TransitionResponse,
)
from listes.models import Document, Piece
from procuration.exceptions import DomainError
from procuration.models import AuditLog

PROBLEM = OpenApiResponse(ProblemSerializer, description="Erreur (application/problem+json, RFC 9457)")
PJ = "application/problem+json"
COMMON_ERRORS = {(401, PJ): PROBLEM, (403, PJ): PROBLEM, (429, PJ): PROBLEM}


class Pagination(PageNumberPagination):
    """?page=N, 100 rows a page, in id order; a page past the end is empty (not an error)."""

    page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param) or "1"
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise exceptions.ValidationError({"page": ["Un numéro de page (entier positif) est attendu."]})
        self.request, self.number = request, int(raw)
        self.count = queryset.count()
        start = (self.number - 1) * self.page_size
        return list(queryset[start:start + self.page_size]) if start < self.count else []

    def get_schema_operation_parameters(self, view):
        return [{"name": self.page_query_param, "required": False, "in": "query",
                 "description": "Numéro de page (100 lignes par page).", "schema": {"type": "integer", "minimum": 1}}]

    def _link(self, number):
        from rest_framework.utils.urls import replace_query_param

        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, number)

    def get_paginated_response(self, data):
        last = max(1, -(-self.count // self.page_size))
        return Response({
            "count": self.count,
            "next": self._link(self.number + 1) if self.number < last else None,
            "previous": self._link(min(self.number - 1, last)) if self.number > 1 else None,
            "results": data,
        })


class ApiMixin:
    """Door (key, scope, rate limit) and the audit line of every authenticated call."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [PerKeyRateLimit]
    required_scope: str = ""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        key = request._request.__dict__.get("api_key")
        if key is not None:
            AuditLog.record(request, "api.call", key, method=request.method, endpoint=request.path,
                            status=response.status_code)
        return response

    def perform_authentication(self, request):
        super().perform_authentication(request)
        if isinstance(request.auth, ApiKey):
            request._request.api_key = request.auth

    def filters(self, serializer_class):
        s = serializer_class(data=self.request.query_params)
        s.is_valid(raise_exception=True)
        return s.validated_data


# The read views. Comments, not docstrings, on the classes below: drf-spectacular would put the first
# docstring it finds in the schema as the operations' description.
#
# A read list: the resource's rows for the key's commune (`scoped`), narrowed by the query string
# (`query`: each filter given becomes one lookup of `lookups`), in id order, 100 a page.
class FilteredList(ApiMixin, generics.ListAPIView):
    pagination_class = Pagination
    query: type[StrictQuery]
    lookups: dict[str, str | Callable]  # filter name -> queryset lookup, or (queryset, value) -> queryset

    def get_queryset(self):
        f = self.filters(self.query)
        qs = self.scoped()
        for name, lookup in self.lookups.items():
            if name in f:
                qs = lookup(qs, f[name]) if callable(lookup) else qs.filter(**{lookup: f[name]})
        return qs.order_by("pk")


# The procurations a key reads (list and detail), and how they are shown.
class Procurations:
    required_scope = Scope.PROCURATIONS_READ
    serializer_class = ProcurationSerializer

    def scoped(self):
        return procurations_for(self.request.auth).select_related(
            "commune", "scrutin", "mandant__commune", "mandant__bureau", "mandataire__commune", "mandataire__bureau"
        )


# The télédossiers a key reads (list and detail).
class Teledossiers:
    required_scope = Scope.TELEDOSSIERS_READ
    serializer_class = TeledossierSerializer

    def scoped(self):
        return teledossiers_for(self.request.auth).select_related("electeur")


@extend_schema(tags=["procurations"], parameters=[ProcurationFilter], responses={(200, "application/json"): ProcurationSerializer(many=True),
               (400, PJ): PROBLEM, **COMMON_ERRORS}, summary="Procurations de la commune")
class ProcurationList(Procurations, FilteredList):
    query = ProcurationFilter
    # `status` is the effective status: a demande past its two months is `expiree` before the task records it.
    lookups = {"scrutin": "scrutin_id", "bureau": "mandant__bureau__numero",
               "status": lambda qs, status: qs.statut_effectif_in(status), "updated_since": "updated_at__gte"}


@extend_schema(tags=["procurations"], responses={(200, "application/json"): ProcurationSerializer, (404, PJ): PROBLEM, **COMMON_ERRORS},
               summary="Une procuration de la commune")
class ProcurationDetail(Procurations, ApiMixin, generics.RetrieveAPIView):
    def get_queryset(self):
        return self.scoped()


@extend_schema(tags=["télédossiers"], parameters=[TeledossierFilter], responses={
    (200, "application/json"): TeledossierSerializer(many=True), (400, PJ): PROBLEM, **COMMON_ERRORS}, summary="Télédossiers de la commune")
class TeledossierList(Teledossiers, FilteredList):
    query = TeledossierFilter
    lookups = {"demarche": "demarche", "etat": "etat", "updated_since": "updated_at__gte"}


@extend_schema(tags=["télédossiers"], responses={(200, "application/json"): TeledossierDetailSerializer, (404, PJ): PROBLEM, **COMMON_ERRORS},
               summary="Un télédossier, ses pièces, ses documents et son historique")
class TeledossierDetail(Teledossiers, ApiMixin, generics.RetrieveAPIView):
    serializer_class = TeledossierDetailSerializer
    lookup_field = "numero"

    def get_queryset(self):
        return self.scoped().prefetch_related("pieces", "documents", "events")


@extend_schema(tags=["fil des changements"], parameters=[FeedQuery], responses={
    (200, "application/json"): FeedSerializer, (400, PJ): PROBLEM, **COMMON_ERRORS},
    summary="Fil des changements depuis un curseur",
    description="Chaque changement des procurations et télédossiers que la clé peut lire, dans l'ordre, "
                "sans jamais en sauter un (voir docs/api.md). Droit : procurations:read ou teledossiers:read.")
class Feed(ApiMixin, APIView):
    required_scope = (Scope.PROCURATIONS_READ, Scope.TELEDOSSIERS_READ)

    def get(self, request):
        from api.models import Change
        from listes.models import Teledossier

        q = self.filters(FeedQuery)
        key = request.auth
        kinds = [kind for kind, scope in ((Change.Kind.PROCURATION, Scope.PROCURATIONS_READ),
                                           (Change.Kind.TELEDOSSIER, Scope.TELEDOSSIERS_READ)) if key.has_scope(scope)]
        try:
            rows, cursor, more = feed.read(commune_id=key.commune_id, kinds=kinds, cursor=q.get("cursor"),
                                           limit=q["limit"])
        except DomainError as e:
            raise exceptions.ValidationError({e.field: [e.message]}) from None
        numeros = dict(Teledossier.objects.filter(
            pk__in=[r.object_id for r in rows if r.kind == Change.Kind.TELEDOSSIER]).values_list("pk", "numero"))
        changes = [{"kind": r.kind, "object_id": r.object_id, "event": r.event, "state": r.state, "at": r.at,
                    "numero": numeros.get(r.object_id) if r.kind == Change.Kind.TELEDOSSIER else None} for r in rows]
        return Response(FeedSerializer({"changes": changes, "next_cursor": cursor, "has_more": more}).data)


def _form_errors(form):
    return exceptions.ValidationError({field: [str(e) for e in errs] for field, errs in form.errors.items()})


class TeledossierWriteMixin(ApiMixin):
    required_scope = Scope.TELEDOSSIERS_WRITE

    def dossier(self, numero):
        return get_object_or_404(teledossiers_for(self.request.auth), numero=numero)


@extend_schema(tags=["télédossiers"], request=TransitionRequest, responses={
    (200, "application/json"): TransitionResponse, (400, PJ): PROBLEM, (404, PJ): PROBLEM, (409, PJ): PROBLEM,
    (422, PJ): PROBLEM, **COMMON_ERRORS},
    summary="Faire évoluer un télédossier (avec un commentaire à l'usager)",
    description="Les mêmes méthodes, contrôles et courriels que le guichet de suivi. Droit : teledossiers:write.")
class TeledossierTransition(TeledossierWriteMixin, APIView):
    def post(self, request, numero):
        from listes.forms import CommentForm, RefuseForm

        d = self.dossier(numero)
        action = request.data.get("action") if isinstance(request.data, dict) else None
        if action not in ("recevoir", "clore", "accepter", "refuser"):
            raise exceptions.ValidationError({"action": ["Action inconnue : recevoir, clore, accepter ou refuser."]})
        form = (RefuseForm if action == "refuser" else CommentForm)(
            data={k: request.data.get(k) or "" for k in ("comment", "motif")})
        if not form.is_valid():
            raise _form_errors(form)
        if action == "refuser":
            changed = d.refuser(by=request.user, motif=form.cleaned_data["motif"], comment=form.cleaned_data["comment"])
        else:
            changed = getattr(d, action)(by=request.user, comment=form.cleaned_data["comment"])
        if changed:
            AuditLog.record(request, f"listes.{action}", d, api_key=request.auth.pk)
        d = self.dossier(numero)
        return Response({"changed": changed,
                         "teledossier": TeledossierDetailSerializer(d, context={"request": request}).data})


@extend_schema(tags=["télédossiers"], request={"multipart/form-data": DocumentRequest}, responses={
    (201, "application/json"): DocumentSerializer, (400, PJ): PROBLEM, (404, PJ): PROBLEM, (422, PJ): PROBLEM,
    **COMMON_ERRORS},
    summary="Déposer un document (attestation…) dans l'espace de l'usager", description="Droit : teledossiers:write.")
class TeledossierDocument(TeledossierWriteMixin, APIView):
    def post(self, request, numero):
        from listes import documents
        from listes.forms import DocumentForm

        d = self.dossier(numero)
        form = DocumentForm(request.data, request.FILES)
        if not form.is_valid():
            raise _form_errors(form)
        doc = documents.add_document(d, by=request.user, title=form.cleaned_data["title"],
                                     upload=form.cleaned_data["file"])
        AuditLog.record(request, "listes.document_add", d, api_key=request.auth.pk, document=doc.pk)
        return Response(DocumentSerializer(doc, context={"request": request}).data, status=201)


@extend_schema(tags=["télédossiers"], request=None, responses={
    (201, "application/json"): DocumentSerializer, (404, PJ): PROBLEM, (422, PJ): PROBLEM, **COMMON_ERRORS},
    summary="Délivrer l'attestation de recensement (dossiers RCO)", description="Droit : teledossiers:write.")
class TeledossierAttestationRecensement(TeledossierWriteMixin, APIView):
    def post(self, request, numero):
        from listes import documents

        d = self.dossier(numero)
        doc = documents.attestation_recensement(d, by=request.user)
        AuditLog.record(request, "listes.attestation_rco", d, api_key=request.auth.pk, document=doc.pk)
        return Response(DocumentSerializer(doc, context={"request": request}).data, status=201)


@extend_schema(exclude=True)
class Fichier(APIView):
    """A signed link (api.serializers.file_url): no key header, so a plain download tool can follow it;
    the link names its key, which must still be valid, and the file must still be of its commune."""

    authentication_classes = []
    permission_classes = []

    def get(self, request, token):
        try:
            data = signing.loads(token, salt=FILE_SALT, max_age=settings.API_FILE_URL_MAX_AGE_SECONDS)
        except signing.SignatureExpired:
            raise exceptions.PermissionDenied("Ce lien de téléchargement a expiré : redemandez le télédossier.") from None
        except signing.BadSignature:
            raise exceptions.NotFound() from None
        key = ApiKey.objects.active().filter(pk=data.get("k")).first()
        if key is None or not key.has_scope(Scope.TELEDOSSIERS_READ):
            raise exceptions.PermissionDenied("La clé d'API de ce lien a été révoquée.")
        dossiers = teledossiers_for(key)
        if data.get("t") == "piece":
            obj = get_object_or_404(Piece, pk=data.get("id"), teledossiers__in=dossiers.values("pk"))
            name, mime = obj.original_name, obj.content_type
        elif data.get("t") == "document":
            obj = get_object_or_404(Document, pk=data.get("id"), teledossier__in=dossiers.values("pk"))
            name, mime = f"{obj.title}.pdf", "application/pdf"
        else:
            raise exceptions.NotFound()
        AuditLog.record(key.created_by, "api.fichier", key, kind=data["t"], id=obj.pk)
        response = FileResponse(obj.file.open("rb"), as_attachment=True, filename=name, content_type=mime)
        response["Cache-Control"] = "private, no-store"
        return response


@extend_schema(exclude=True)
class _NotFound(APIView):
    authentication_classes = []
    permission_classes = []

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound()


not_found = _NotFound.as_view()
