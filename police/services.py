"""The counter's domain calls: look a reference up, then validate or refuse.

The view stays thin: it asks `lookup` for a procuration, shows it, and hands the officer's
decision to `valider` / `refuser`, turning DomainError into a message.
"""

import functools

from django.conf import settings
from django.core import signing
from django.db import connection

from procuration import ratelimit
from procuration.exceptions import DomainError
from procuration.models import AuditLog, IdentiteVerifiee, Procuration, Status, Verificateur
from procuration.network import client_ip
from procuration.reference import InvalidReference, normalize_reference

FICHE_SALT = "police.fiche"

# What the officer is told for each status other than « en attente ». Nothing about the
# mandant, the mandataire or the commune is revealed.
UNKNOWN = "Aucune demande de procuration ne correspond à cette référence. Vérifiez la saisie auprès du mandant."
EXPIRED = (
    "Cette référence a expiré : la demande n'a pas été validée dans le délai de deux mois. "
    "Le mandant doit faire une nouvelle demande."
)
ALREADY_VALIDATED = "Cette procuration a déjà été validée : aucune nouvelle validation n'est nécessaire."
STATUS_MESSAGES = {
    Status.VALIDEE_AUTORITE: ALREADY_VALIDATED,
    Status.VALIDEE_MAIRIE: ALREADY_VALIDATED,
    Status.INVALIDEE_MAIRIE: ALREADY_VALIDATED,
    Status.EXPIREE: EXPIRED,
    Status.ECHUE: EXPIRED,
    Status.REFUSEE_AUTORITE: "Cette demande a déjà été refusée au guichet. Le mandant doit faire une nouvelle demande.",
    Status.RESILIEE: "Cette demande a été résiliée par le mandant. Elle ne peut plus être validée.",
    Status.ANNULEE: "Cette procuration est annulée (nulle de plein droit). Le mandant doit faire une nouvelle demande.",
}
RATE_LIMITED = (
    "Trop de recherches de références en peu de temps. Pour la sécurité des données des électeurs, "
    "patientez quelques minutes avant de recommencer."
)


class LookupRefused(DomainError):
    """The lookup gives the officer nothing but this message."""


class RateLimited(LookupRefused):
    pass


def is_expired(p: Procuration) -> bool:
    """Expirée (recorded by the task or not: Procuration.statut_effectif) or échue."""
    return p.statut_effectif in (Status.EXPIREE, Status.ECHUE)


def check_actionable(p: Procuration) -> None:
    """Raise LookupRefused unless the officer may act on p now: a demande to validate or refuse, or
    a procuration in force whose mandant asked online to revoke it (L.75: the officer checks the
    identity and confirms the résiliation)."""
    if is_expired(p):
        raise LookupRefused(EXPIRED, code="expiree")
    if p.resiliation_en_attente:
        return
    if p.statut_effectif != Status.EN_ATTENTE:
        raise LookupRefused(STATUS_MESSAGES.get(p.statut_effectif, UNKNOWN), code=p.statut_effectif)


# Only what check_actionable reads, by one fixed statement on the unique index of the reference (like
# procuration/auth.py get_user): no ordering, no joins, the brouillon test in Python. The caller
# redirects to the procuration's page, which loads it whole. Building the ORM query cost more than
# running it: ≈ 2.2 ms of CPU under cProfile for only().get(), one fifth of the lookup (issue 16,
# docs/performance.md). The instance is the one only(*LOOKUP_FIELDS).get() would give (deferred rest).
LOOKUP_FIELDS = ("id", "status", "submitted_at", "resiliation_demandee_at")


@functools.cache
def _lookup_statement(vendor: str) -> tuple[str, list, list[str], list[list]]:
    """The statement, its columns, their attnames and converters (none on PostgreSQL), once per process."""
    quote, meta = connection.ops.quote_name, Procuration._meta
    cols = [meta.get_field(name).get_col(meta.db_table) for name in LOOKUP_FIELDS]
    sql = (f"SELECT {', '.join(quote(col.target.column) for col in cols)} FROM {quote(meta.db_table)} "
           f"WHERE {quote(meta.get_field('reference').column)} = %s")
    converters = [connection.ops.get_db_converters(col) + col.get_db_converters(connection) for col in cols]
    return sql, cols, [col.target.attname for col in cols], converters


def _find(reference: str) -> Procuration | None:
    sql, cols, attnames, converters = _lookup_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [reference])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for i, column_converters in enumerate(converters):
        for convert in column_converters:
            values[i] = convert(values[i], cols[i], connection)
    return Procuration.from_db(connection.alias, attnames, values)


def lookup(request, raw: str) -> Procuration:
    """Rate-limit, normalise, find, audit. Returns a procuration the officer may act on (open it
    with fiche_token)."""
    user, ip = request.user, client_ip(request) or "inconnue"
    # Both counters count every attempt, in one round trip to Redis; the one per address is high enough
    # for a whole commissariat behind one NAT.
    limits = [
        ("police-lookup-user", str(user.pk), settings.POLICE_LOOKUP_LIMIT),
        ("police-lookup-ip", ip, settings.POLICE_LOOKUP_IP_LIMIT),
    ]
    if not ratelimit.hit_each(limits, settings.POLICE_LOOKUP_WINDOW_SECONDS):
        AuditLog.record(request, "police.lookup", None, saisie=raw[:40], resultat="limite_atteinte")
        raise RateLimited(RATE_LIMITED, code="rate_limited")
    try:
        reference = normalize_reference(raw)
    except InvalidReference as exc:
        AuditLog.record(request, "police.lookup", None, saisie=raw[:40], resultat="format_invalide")
        raise LookupRefused(str(exc), code="format") from exc
    p = _find(reference)
    if p is None or p.status == Status.BROUILLON:
        AuditLog.record(request, "police.lookup", None, reference=reference, resultat="inconnue")
        raise LookupRefused(UNKNOWN, code="inconnue")
    try:
        check_actionable(p)
    except LookupRefused as exc:
        AuditLog.record(request, "police.lookup", p, reference=reference, resultat=exc.code)
        raise
    AuditLog.record(request, "police.lookup", p, reference=reference, resultat="trouvee")
    return p


# ---------------------------------------------------------------- the procuration's page
# Only an officer who found the procuration by its reference may open its page. The lookup gives
# that officer a token signed by the server: the procuration and the officer, with the time.
# Nothing to store (no session write per lookup), nothing to enumerate; the token opens the page
# for that officer only, for POLICE_FICHE_MAX_AGE_SECONDS; acting still requires the status to
# allow it (check_actionable), so an old token shows « déjà validée », never a second validation.
def fiche_token(user, pk: int) -> str:
    return signing.dumps([pk, user.pk], salt=FICHE_SALT)


def fiche_pk(request, token: str) -> int | None:
    """The procuration the token opens for this officer, or None."""
    try:
        pk, officer_pk = signing.loads(token, salt=FICHE_SALT, max_age=settings.POLICE_FICHE_MAX_AGE_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return pk if officer_pk == request.user.pk and isinstance(pk, int) else None


# ---------------------------------------------------------------- the officer's decision
def valider(p: Procuration, *, by, piece_type: str, piece_numero_fin: str) -> None:  # pragma: no mutate (equivalent: docs/testing.md)
    """Validate, or raise DomainError with the message to show (« déjà validée » included)."""
    check_actionable(p)
    if p.resiliation_en_attente:
        raise LookupRefused(ALREADY_VALIDATED, code="deja_validee")
    done = p.valider_autorite(by=by, piece_type=piece_type, piece_numero_fin=piece_numero_fin)
    if not done:
        raise LookupRefused(ALREADY_VALIDATED, code="deja_validee")


def confirmer_resiliation(p: Procuration, *, by, piece_type: str, piece_numero_fin: str) -> None:  # pragma: no mutate (equivalent: docs/testing.md)
    """L.75 at the counter: the mandant who asked online to revoke shows their identity; the
    résiliation takes effect."""
    if not p.resiliation_en_attente:
        check_actionable(p)
        raise LookupRefused(UNKNOWN, code="pas_de_resiliation")
    identite = IdentiteVerifiee(Verificateur.AUTORITE, by=by, piece_type=piece_type, piece_numero_fin=piece_numero_fin)
    if not p.resilier(by=by, identite=identite, reason="Résiliation confirmée au guichet"):
        raise LookupRefused(STATUS_MESSAGES[Status.RESILIEE], code="deja_resiliee")


def refuser(p: Procuration, *, by, motif: str, detail: str) -> None:  # pragma: no mutate (equivalent: docs/testing.md)
    check_actionable(p)
    if p.resiliation_en_attente:
        raise LookupRefused(ALREADY_VALIDATED, code="deja_validee")
    done = p.refuser_autorite(by=by, motif=motif, detail=detail)
    if not done:
        raise LookupRefused(STATUS_MESSAGES[Status.REFUSEE_AUTORITE], code="deja_refusee")
