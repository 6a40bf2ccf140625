"""Recording domain changes for the delta feed and the webhooks: called by the transitions of
procuration.models.procuration and listes.models inside their transaction."""

import functools

from django.db import connection

from api.models import Change

# PostgreSQL: the id of the current transaction (xid8, epoch-extended: never wraps) as a bigint.
CURRENT_TX = "pg_current_xact_id()::text::bigint"


def record(obj, event: str) -> Change:
    """One Change row for `obj` (a Procuration or a Teledossier) in the caller's transaction, and one
    webhook delivery per active endpoint of its commune (api.webhooks.fan_out)."""
    from listes.models import Teledossier

    if isinstance(obj, Teledossier):
        kind, state = Change.Kind.TELEDOSSIER, obj.etat
    else:
        kind, state = Change.Kind.PROCURATION, obj.status
    from api.webhooks import fan_out

    change = Change(commune_id=obj.commune_id, kind=kind, object_id=obj.pk, event=event, state=state)
    if connection.vendor != "postgresql":
        change.save(force_insert=True)
        fan_out(change)
        return change
    # PostgreSQL: the row, its transaction's id and the commune's active endpoints in one statement
    # (one round trip fewer in every transition: issue 16, docs/performance.md). The endpoints are
    # those fan_out would read right after; a commune has none most of the time.
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), [change.commune_id, kind, change.object_id, event, state, change.at,
                                       change.commune_id])
        change.pk, change.tx, endpoint_ids = cursor.fetchone()
    change._state.adding, change._state.db = False, connection.alias
    fan_out(change, endpoint_ids)
    return change


@functools.cache
def _insert_sql() -> str:
    from api.models import WebhookEndpoint

    quote = connection.ops.quote_name
    columns = ", ".join(quote(Change._meta.get_field(name).column)
                        for name in ("commune", "kind", "object_id", "event", "state", "at", "tx"))
    endpoints = WebhookEndpoint._meta
    return (
        f"INSERT INTO {quote(Change._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, ({CURRENT_TX})) "
        f"RETURNING {quote(Change._meta.pk.column)}, {quote(Change._meta.get_field('tx').column)}, "
        f"ARRAY(SELECT {quote(endpoints.pk.column)} FROM {quote(endpoints.db_table)} "
        f"WHERE {quote(endpoints.get_field('commune').column)} = %s AND {quote(endpoints.get_field('active').column)} "
        f"ORDER BY {quote(endpoints.pk.column)})"
    )
