"""Recording domain changes for the delta feed and the webhooks: called by the transitions of
procuration.models.procuration and listes.models inside their transaction."""

from django.db import connection
from django.db.models.expressions import RawSQL

from api.models import Change

# PostgreSQL: the id of the current transaction (xid8, epoch-extended: never wraps) as a bigint.
CURRENT_TX = "pg_current_xact_id()::text::bigint"


def record(obj, event: str) -> Change:
    """One Change row for `obj` (a Procuration or a Teledossier) in the caller's transaction."""
    from listes.models import Teledossier

    if isinstance(obj, Teledossier):
        kind, state = Change.Kind.TELEDOSSIER, obj.etat
    else:
        kind, state = Change.Kind.PROCURATION, obj.status
    tx = RawSQL(CURRENT_TX, ()) if connection.vendor == "postgresql" else None
    change = Change.objects.create(commune_id=obj.commune_id, kind=kind, object_id=obj.pk, event=event, state=state,
                                   tx=tx)
    from api.webhooks import fan_out

    fan_out(change)
    return change
