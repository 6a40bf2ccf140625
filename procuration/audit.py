"""The audit trail's operations: write an entry, purge a dossier without breaking its chain, the
daily digest, and the walk that `manage.py verify_audit` does (docs/security.md)."""

import hashlib
from collections.abc import Iterator

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from procuration import chain, counts
from procuration.models import AuditDigest, AuditLog, ChainHead, Procuration, ProcurationEvent, purge_mode

PROCURATION_LABEL = Procuration._meta.label


def record_audit(request_or_user, action: str, obj=None, **detail) -> AuditLog:
    """Append one audit entry: who (the request's user, or a user), what, on which object, from which
    address (procuration.network.client_ip), details (JSON values). Same as AuditLog.record."""
    return AuditLog.record(request_or_user, action, obj, **detail)


def purge_dossiers(queryset) -> int:
    """Retention purge: delete these procurations; their events and the audit entries about them stay
    in their chains with the personal fields emptied (their digest, pii_digest, stays)."""
    deleted = 0
    pks = list(queryset.values_list("pk", flat=True))
    for start in range(0, len(pks), 500):
        batch = pks[start:start + 500]
        with transaction.atomic(), purge_mode():
            counts.forget(batch)  # their figures leave with them (procuration.counts)
            ProcurationEvent.objects.filter(dossier__in=batch, purged=False).update(reason="", salt="", purged=True)
            AuditLog.objects.filter(
                object_type=PROCURATION_LABEL, object_id__in=[str(pk) for pk in batch], purged=False
            ).update(ip=None, detail={}, salt="", purged=True)
            _, per_model = Procuration.objects.filter(pk__in=batch).delete()
            deleted += per_model.get(PROCURATION_LABEL, 0)  # the dossiers, not their cascaded e-mails
    return deleted


# ------------------------------------------------------------------ digest
def _dossier_heads():
    last = ProcurationEvent.objects.filter(dossier=OuterRef("dossier")).order_by("-seq").values("seq")[:1]
    return (
        ProcurationEvent.objects.filter(seq=Subquery(last)).order_by("dossier").values_list("dossier", "seq", "hash")
    )


def record_digest(day=None) -> AuditDigest:
    """The day's digest: the audit chain's head and one SHA-256 over every dossier chain's head
    (dossier:seq:hash lines, by dossier). Written once per day."""
    day = day or timezone.localdate()
    existing = AuditDigest.objects.filter(day=day).first()
    if existing is not None:
        return existing
    head = AuditLog.objects.order_by("-seq").values_list("seq", "hash").first() or (0, chain.GENESIS)
    h, count = hashlib.sha256(), 0
    for dossier, seq, link in _dossier_heads().iterator(chunk_size=5000):
        h.update(f"{dossier}:{seq}:{link}\n".encode())
        count += 1
    return AuditDigest.objects.create(
        day=day, audit_seq=head[0], audit_hash=head[1], dossiers=count, dossiers_hash=h.hexdigest()
    )


# ------------------------------------------------------------------ verification
def _walk(rows, name_of) -> Iterator[str]:
    current, prev_seq, prev_hash = object(), 0, chain.GENESIS
    for row in rows:
        key = name_of(row)
        if key != current:
            current, prev_seq, prev_hash = key, 0, chain.GENESIS
        why = row.broken(prev_seq, prev_hash)
        if why:
            yield f"chaîne « {key} », maillon {row.seq} ({row._meta.db_table} id {row.pk}) : {why}"
            return
        prev_seq, prev_hash = row.seq, row.hash


def broken_links() -> Iterator[str]:
    """The first broken link of each kind of chain (none: everything verifies)."""
    events = ProcurationEvent.objects.order_by("dossier", "seq").iterator(chunk_size=2000)
    yield from _walk(events, lambda e: f"dossier {e.dossier}")
    audit = AuditLog.objects.order_by("seq").iterator(chunk_size=2000)
    last = None
    for problem in _walk(audit, lambda a: "audit"):
        yield problem
        break
    else:
        last = AuditLog.objects.order_by("-seq").values_list("seq", "hash").first() or (0, chain.GENESIS)
        head = ChainHead.objects.filter(name=AuditLog.CHAIN).values_list("seq", "hash").first() or (0, chain.GENESIS)
        if tuple(head) != tuple(last):
            yield (f"chaîne « audit » : la tête enregistrée (maillon {head[0]}) ne correspond pas au dernier maillon "
                   f"présent ({last[0]}) : des entrées ont été supprimées")
    for digest in AuditDigest.objects.order_by("day"):
        if digest.audit_seq == 0:
            continue
        anchored = AuditLog.objects.filter(seq=digest.audit_seq).values_list("hash", flat=True).first()
        if anchored != digest.audit_hash:
            yield (f"chaîne « audit », maillon {digest.audit_seq} : ne correspond plus à l'empreinte quotidienne "
                   f"du {digest.day:%d/%m/%Y}")
