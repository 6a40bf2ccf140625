"""Every error of the API is RFC 9457 problem+json, in French."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from procuration.exceptions import DomainError, TransitionError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    406: "Format de réponse non disponible",
    409: "Conflit avec l'état de la ressource",
    413: "Fichier trop volumineux",
    415: "Type de contenu non pris en charge",
    422: "Action refusée par les règles du domaine",
    429: "Trop de requêtes",
}


def problem(status_code: int, detail: str, *, errors=None, headers=None, type_: str = "about:blank") -> Response:
    body = {"type": type_, "title": TITLES.get(status_code, "Erreur"), "status": status_code, "detail": detail}
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def _flatten(data, prefix="") -> list[dict]:
    """DRF's {field: [messages]} (nested) as [{"field": "a.b", "message": "…"}]."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            name = "" if k == "non_field_errors" else (f"{prefix}.{k}" if prefix else str(k))
            out += _flatten(v, name)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _flatten(v, prefix if not isinstance(v, (dict, list)) else f"{prefix}[{i}]")
    else:
        out.append({"field": prefix, "message": str(data)})
    return out


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        return problem(404, "Aucune ressource de votre commune ne correspond à cette adresse.")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, TransitionError):
        return problem(409, exc.message, errors=[{"field": exc.field or "", "message": exc.message}])
    if isinstance(exc, DomainError):
        return problem(422, exc.message, errors=[{"field": exc.field or "", "message": exc.message}])
    if not isinstance(exc, exceptions.APIException):
        return None  # a 500: Django's handler, logged
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        fields = ", ".join(f"« {e['field']} »" for e in errors if e["field"])
        detail = f"Paramètre invalide : {fields}." if fields else (errors[0]["message"] if errors else "Requête invalide.")
        return problem(400, detail, errors=errors, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        return problem(429, "Trop de requêtes pour cette clé : réessayez plus tard.", headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem(exc.status_code or status.HTTP_400_BAD_REQUEST, str(detail), headers=headers)
