"""The delta feed: every change of a commune after an opaque cursor, in order, none ever skipped.

Why not `id > cursor`: ids (and commit timestamps) are taken before commit, so two transactions
can commit out of order; a reader could hand out a cursor past the id of a row still uncommitted,
and never see that row. Here each row carries its transaction id `tx` (PostgreSQL xid8), and a read
serves only rows with `tx < xmin`, the oldest transaction still running when the read starts: every
transaction below xmin has finished (committed or rolled back), so no new row can ever appear
below it. Rows are ordered by (tx, id) and the cursor is the last (tx, id) served (opaque to clients). A long-running
transaction holds the feed back (its rows and all later ones wait until it ends): the feed is
late, never wrong. On SQLite (development), writers are serialised: `id` alone is the order.
"""

import re

from django.db import connection
from django.db.models import Q

from api.models import Change
from procuration.exceptions import DomainError

VERSION = "v1"


CURSOR_PATTERN = r"^v1-[0-9]{1,18}-[0-9]{1,18}$"  # opaque to clients: send back what you were given


def encode_cursor(tx: int | None, pk: int) -> str:
    return f"{VERSION}-{tx or 0}-{pk}"


def decode_cursor(raw: str) -> tuple[int, int]:
    if not re.fullmatch(CURSOR_PATTERN, raw or ""):
        raise DomainError("Curseur invalide : reprenez celui que l'appel précédent a rendu.", field="cursor")
    _, tx, pk = raw.split("-")
    return int(tx), int(pk)


def horizon() -> int | None:
    """The oldest transaction id still running (rows below it are final), or None off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        return cur.fetchone()[0]


def read(*, commune_id: int, kinds: list[str], cursor: str | None, limit: int) -> tuple[list[Change], str, bool]:
    """(changes, next cursor, whether more are already available)."""
    tx, pk = decode_cursor(cursor) if cursor else (0, 0)
    qs = Change.objects.filter(commune_id=commune_id, kind__in=kinds)
    xmin = horizon()
    if xmin is None:
        qs = qs.filter(pk__gt=pk).order_by("pk")
    else:
        qs = qs.filter(tx__lt=xmin).filter(Q(tx__gt=tx) | Q(tx=tx, pk__gt=pk)).order_by("tx", "pk")
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].tx, rows[-1].pk) if rows else (cursor or encode_cursor(0, 0))
    return rows, next_cursor, more
