"""The figures per commune, scrutin and status, kept as they change (issue 16; docs/performance.md,
« Dashboard counts »): the mairie's dashboard and the back office read them in one query whose cost
does not grow with the number of procurations.

The one home of these counts. Every change of the number of procurations per (commune, scrutin,
stored status) writes, in its own transaction, one ProcurationCount row per key it moves: +1 for
the status entered, -1 for the status left (`moved`, called by Procuration._transition), +1 for a
row created in a counted status (`created`), -1 for a row deleted (`forget`, called by the retention
purge). These are INSERTs only: two transitions of the same commune at once take no common lock
and cannot deadlock on a counter. `compact` (a beat task) folds a key's rows into one, in a
transaction, keeping the sums; `rebuild` recomputes everything from the procurations (manage.py
rebuild_procuration_counts: after a bulk load by COPY, or after the deploy that adds the table).

Brouillons are not counted: nobody but their mandant sees them, and the back office counts them by
their own index. The effective status (a demande « en attente » past its last day is expirée,
procuration.expiry) is applied at read time: the rows still « en attente » in the table whose last
day is over are counted by an index (commune, status, submitted_at) and moved to « expirée ».
"""

from collections import defaultdict

from django.db import connection, transaction
from django.db.models import BigIntegerField, CharField, Count, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.transaction import TransactionManagementError

from procuration import expiry
from procuration.fixed_select import insert_rows
from procuration.models import Procuration, ProcurationCount, Status

UNCOUNTED = frozenset({Status.BROUILLON})
# Communes whose rows `compact` locks and folds per transaction.
COMPACT_COMMUNES = 100
_DELETE_CHUNK = 500  # ids per DELETE (SQLite's limit of bound parameters)
# The tags of the reader's union: the stored sums carry their status; these two are counted apart.
_EXPIRED, _BROUILLON = "*expiree*", "*brouillon*"


def _in_transaction() -> None:
    if not connection.in_atomic_block:
        raise TransactionManagementError("Les comptes de procurations changent dans la transaction du changement.")


def _write(deltas: dict) -> None:
    """One INSERT of the non-zero changes {(commune_id, scrutin_id, status): n}, written once per process
    (procuration.fixed_select.insert_rows: the rows are never read back in the transition)."""
    insert_rows(ProcurationCount(commune_id=c, scrutin_id=s, status=st, n=n)
                for (c, s, st), n in deltas.items() if n and st not in UNCOUNTED)


def moved(p: Procuration, *, from_status: str) -> None:
    """`p` (commune and scrutin unchanged) left `from_status` for `p.status`: in the transition's
    transaction (Procuration._transition)."""
    _in_transaction()
    key = (p.commune_id, p.scrutin_id)
    deltas = defaultdict(int)
    deltas[(*key, str(from_status))] -= 1
    deltas[(*key, str(p.status))] += 1
    _write(deltas)


def created(*procurations: Procuration) -> None:
    """These rows were just inserted (any status; a brouillon counts nothing): in the creation's
    transaction, one INSERT."""
    _in_transaction()
    deltas = defaultdict(int)
    for p in procurations:
        deltas[(p.commune_id, p.scrutin_id, str(p.status))] += 1
    _write(deltas)


def forget(pks) -> None:
    """The procurations `pks` are about to be deleted in this transaction: locked here (a transition of
    one of them waits, then finds it gone), their counts taken off."""
    _in_transaction()
    deltas = defaultdict(int)
    for c, s, st in Procuration.objects.select_for_update().filter(pk__in=list(pks)).values_list(
            "commune_id", "scrutin_id", "status"):
        deltas[(c, s, st)] -= 1
    _write(deltas)


def for_commune(commune_id: int | None, *, today=None) -> list[dict]:
    """Rows {"scrutin_id", "statut": effective status, "n"} of the commune's procurations but brouillons
    (what the mairie sees): the same figures as
    Procuration.objects.visible_to(agent).counts_by_statut_effectif("scrutin_id"). None (an agent
    without a commune) sees nothing."""
    return [] if commune_id is None else _figures(commune_id, brouillons=False, today=today)


def national(*, today=None) -> list[dict]:
    """The same rows for every procuration, brouillons included (the back office): the figures of
    Procuration.objects.counts_by_statut_effectif("scrutin_id")."""
    return _figures(None, brouillons=True, today=today)


_MOVED_BY_EXPIRY = (expiry.EN_ATTENTE, expiry.EXPIREE)


def _expired_sign(statut) -> int:
    """How the demandes still « en attente » in the table past their last day (expiry's rule) count
    toward the stored figure of `statut`: out of « en attente », into « expirée », nothing else.
    The one home of that adjustment, for _figures and number."""
    return {expiry.EN_ATTENTE: -1, expiry.EXPIREE: 1}.get(str(statut), 0)


def _figures(commune_id, *, brouillons: bool, today) -> list[dict]:
    """One query: the stored sums, the demandes « en attente » past their last day (procuration.expiry;
    the index proc_commune_submitted_idx, nationally proc_status_submitted_idx) moved to « expirée »,
    and the brouillons if asked (the index on status)."""
    stored = ProcurationCount.objects.all()
    expired = Procuration.objects.filter(expiry.expired_unrecorded_q(today))
    drafts = Procuration.objects.filter(status=Status.BROUILLON)
    if commune_id is not None:
        stored, expired, drafts = (qs.filter(commune_id=commune_id) for qs in (stored, expired, drafts))
    tagged = [stored.values("scrutin_id", "status").annotate(n=Sum("n")).order_by()]
    for qs, tag in ((expired, _EXPIRED), *(((drafts, _BROUILLON),) if brouillons else ())):
        tagged.append(qs.annotate(tag=Value(tag, output_field=CharField())).values("scrutin_id", "tag")
                      .annotate(n=Count("pk")).order_by())
    figures: dict = defaultdict(int)
    # A union's rows are named after its first member's columns: scrutin_id, status (or the tag), n.
    for row in tagged[0].union(*tagged[1:], all=True):
        scrutin_id, status, n = row["scrutin_id"], row["status"], row["n"]
        if status == _EXPIRED:
            for statut in _MOVED_BY_EXPIRY:
                figures[(scrutin_id, statut)] += _expired_sign(statut) * n
        else:
            figures[(scrutin_id, Status.BROUILLON if status == _BROUILLON else status)] += n
    return [{"scrutin_id": s, "statut": str(st), "n": n} for (s, st), n in figures.items() if n]


def number(commune_id: int, statut: str, *, scrutin_id: int | None = None, today=None):
    """The number of the commune's procurations but brouillons whose effective status is `statut` (of
    the scrutin `scrutin_id`, or of every scrutin when None), as one SQL expression to annotate a
    query with (mairie.listing.queue_page: the queue's total with its page's pks, no statement of
    its own): the figure for_commune gives for that key, summed over the scrutins, read the same
    way as _figures (the stored sums by proc_count_key_idx, and for « en attente » and « expirée »
    the demandes « en attente » past their last day by proc_commune_submitted_idx). Its
    subqueries do not refer to the outer query: PostgreSQL runs them once (an InitPlan), whatever
    the rows of the outer query."""
    statut = str(statut)
    stored = ProcurationCount.objects.filter(commune_id=commune_id, status=statut)
    expired = Procuration.objects.filter(expiry.expired_unrecorded_q(today), commune_id=commune_id)
    if scrutin_id is not None:
        stored, expired = stored.filter(scrutin_id=scrutin_id), expired.filter(scrutin_id=scrutin_id)

    def scalar(qs, aggregate):  # one row: grouped by the commune filtered on
        return Coalesce(Subquery(qs.order_by().values("commune_id").annotate(x=aggregate).values("x")[:1]), 0,
                        output_field=BigIntegerField())

    total = scalar(stored, Sum("n"))
    if sign := _expired_sign(statut):
        total = total + sign * scalar(expired, Count("pk"))
    return total


def compact(communes_per_transaction: int = COMPACT_COMMUNES) -> int:
    """Fold the rows of each key written since the last run into one (none when the sum is 0), in one
    transaction per `communes_per_transaction` communes, under their row locks: the sums never change,
    transitions go on meanwhile (they only insert; what they insert after the lock waits for the
    next run). Returns the number of rows removed."""
    dirty = (ProcurationCount.objects.values("commune_id", "scrutin_id", "status")
             .annotate(rows=Count("pk"), total=Sum("n")).filter(Q(rows__gt=1) | Q(total=0)).order_by())
    communes = sorted({row["commune_id"] for row in dirty})
    removed = 0
    for first in range(0, len(communes), communes_per_transaction):
        with transaction.atomic():
            rows = ProcurationCount.objects.select_for_update().filter(
                commune_id__in=communes[first:first + communes_per_transaction]
            ).values_list("pk", "commune_id", "scrutin_id", "status", "n")
            keys: dict = defaultdict(list)
            for pk, *key, n in rows:
                keys[tuple(key)].append((pk, n))
            gone, sums = [], {}
            for key, entries in keys.items():
                total = sum(n for _, n in entries)
                if len(entries) > 1 or total == 0:
                    gone.extend(pk for pk, _ in entries)
                    sums[key] = total
            for start in range(0, len(gone), _DELETE_CHUNK):
                ProcurationCount.objects.filter(pk__in=gone[start:start + _DELETE_CHUNK]).delete()
            _write(sums)
        removed += len(gone) - sum(1 for n in sums.values() if n)
    return removed


def rebuild() -> int:
    """Recompute every count from the procurations, in one transaction; the table is locked against
    the transitions' inserts meanwhile on PostgreSQL (they wait, then add their change to the new
    figures). Returns the number of keys."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ProcurationCount._meta.db_table} IN EXCLUSIVE MODE")
        ProcurationCount.objects.all().delete()
        figures = (Procuration.objects.exclude(status__in=UNCOUNTED).values_list("commune_id", "scrutin_id", "status")
                   .annotate(n=Count("pk")).order_by())
        rows = [ProcurationCount(commune_id=c, scrutin_id=s, status=st, n=n) for c, s, st, n in figures]
        ProcurationCount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
