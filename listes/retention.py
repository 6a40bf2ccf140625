"""Retention of the listes portal's personal data (docs/listes.md, « Conservation des données »).

The one home of the rule: `purge()` deletes, in bounded batches,
- closed télédossiers closed more than LISTES_TELEDOSSIERS_RETENTION_DAYS ago, with the mairie's
  documents (files and rows), their events and their e-mails in the outbox;
- pièces justificatives no open télédossier (transmis, reçu) uses whose last closed télédossier was
  closed more than LISTES_PIECES_RETENTION_DAYS ago, or, attached to none, uploaded that long ago;
  each remaining télédossier that used them gets a TeledossierEvent (action PIECES_PURGED).
The audit trail (procuration.AuditLog) is append-only and hash-chained: its entries about
télédossiers stay as they are (they name a pk or a numéro, not the files).

Files are deleted from storage only after the commit of the batch that deleted their rows
(transaction.on_commit): a rollback never leaves a row pointing to a deleted file. A file already
missing is not an error. Running it twice deletes nothing more.

Also here: `files_discarded_unless_committed()`, the transaction of a request that writes files,
which deletes them again when the transaction does not commit.
"""

import contextlib
import datetime
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from listes.models import (
    PIECES_PURGED,
    Document,
    Etat,
    Piece,
    Teledossier,
    TeledossierEvent,
    private_storage,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
OPEN = (Etat.TRANSMIS, Etat.RECU)
Uses = Teledossier.pieces.through


# ------------------------------------------------------------------ files
def delete_files(names) -> int:
    """Delete these names from the private storage; a missing file is not an error. Returns how many
    were asked for. Never raises: a file that cannot be deleted is logged (and stays, orphaned)."""
    storage = private_storage()
    done = 0
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)  # FileSystemStorage: a missing file is ignored
        except OSError:
            logger.exception("Fichier de listes non supprimé : %s", name)
            continue
        done += 1
    return done


def delete_files_on_commit(names) -> None:
    """Delete the files once the current transaction has committed (never if it rolls back)."""
    names = [n for n in names if n]
    if names:
        transaction.on_commit(partial(delete_files, names), robust=True)


@contextlib.contextmanager
def files_discarded_unless_committed():
    """transaction.atomic() for a block that saves files to the private storage: it yields a list
    where the block appends each name it saved; when the block raises or marks the transaction for
    rollback (transaction.set_rollback), those files are deleted again. (Inside an outer
    transaction that later rolls back, they are not: no request of the portal does that.)"""
    saved: list[str] = []
    committed = False
    try:
        with transaction.atomic():
            yield saved
            committed = not transaction.get_rollback()
    finally:
        if not committed:
            delete_files(saved)


# ------------------------------------------------------------------ the rule
def _cutoff(days: int, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


def _closed_on():
    # A closed télédossier always has closed_at (Teledossier._transition); created_at if ever not.
    return Coalesce("closed_at", "created_at")


def expired_teledossiers(now: datetime.datetime | None = None):
    """Closed télédossiers closed more than LISTES_TELEDOSSIERS_RETENTION_DAYS ago."""
    cutoff = _cutoff(settings.LISTES_TELEDOSSIERS_RETENTION_DAYS, now or timezone.now())
    return Teledossier.objects.annotate(closed_on=_closed_on()).filter(etat=Etat.CLOS, closed_on__lt=cutoff)


def expired_pieces(now: datetime.datetime | None = None):
    """Pièces no open télédossier uses and whose last closed télédossier was closed more than
    LISTES_PIECES_RETENTION_DAYS ago; attached to none: uploaded more than that ago."""
    cutoff = _cutoff(settings.LISTES_PIECES_RETENTION_DAYS, now or timezone.now())
    open_use = Uses.objects.filter(piece_id=OuterRef("pk"), teledossier__etat__in=OPEN)
    last_closed = (
        Uses.objects.filter(piece_id=OuterRef("pk")).values("piece_id")
        .annotate(last=Max(Coalesce("teledossier__closed_at", "teledossier__created_at"))).values("last")
    )
    return (
        Piece.objects.filter(~Exists(open_use))
        .annotate(last_closed=Subquery(last_closed))
        .filter(Q(last_closed__lt=cutoff) | Q(last_closed__isnull=True, created_at__lt=cutoff))
    )


# ------------------------------------------------------------------ the purge
def _batches(queryset, size: int):
    """Primary keys of the queryset, `size` at a time, by increasing pk (keyset: each batch is read
    after the previous one was deleted, nothing is held in memory, and the walk always ends)."""
    last = 0
    while True:
        pks = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:size])
        if not pks:
            return
        yield pks
        last = pks[-1]


def _purge_teledossiers(batch: list[int], now) -> tuple[int, int, int]:
    with transaction.atomic():
        # Lock, then re-check in a new statement (it sees what committed while it waited).
        list(Teledossier.objects.select_for_update(of=("self",)).filter(pk__in=batch).values_list("pk", flat=True))
        pks = list(expired_teledossiers(now).filter(pk__in=batch).values_list("pk", flat=True))
        if not pks:
            return 0, 0, 0
        documents = Document.objects.filter(teledossier_id__in=pks)
        names = list(documents.values_list("file", flat=True))
        n_documents = documents.count()
        documents.delete()  # Document.teledossier is PROTECT: first
        from procuration.models import OutboxEmail

        # Their e-mails (listes.emails, object_ref) carry the usager's name and address.
        OutboxEmail.objects.filter(object_ref__in=[f"listes.Teledossier:{pk}" for pk in pks]).delete()
        # Events, the pièces' links and the mairie's alert notices go with them (CASCADE).
        _, per_model = Teledossier.objects.filter(pk__in=pks).delete()
        delete_files_on_commit(names)
    return per_model.get(Teledossier._meta.label, 0), n_documents, len(names)


def _purge_pieces(batch: list[int], now) -> tuple[int, int]:
    with transaction.atomic():
        list(Piece.objects.select_for_update(of=("self",)).filter(pk__in=batch).values_list("pk", flat=True))
        pieces = list(expired_pieces(now).filter(pk__in=batch).values_list("pk", "file"))
        if not pieces:
            return 0, 0
        pks = [pk for pk, _ in pieces]
        # The télédossiers that keep existing without them say so (guichet and espace).
        used_by = sorted(set(Uses.objects.filter(piece_id__in=pks).values_list("teledossier_id", flat=True)))
        for d in Teledossier.objects.filter(pk__in=used_by).only("pk", "etat"):
            TeledossierEvent.objects.create(
                teledossier=d, action=PIECES_PURGED, from_state=d.etat, to_state=d.etat, actor=None, at=now,
                comment="",
            )
        _, per_model = Piece.objects.filter(pk__in=pks).delete()
        delete_files_on_commit([name for _, name in pieces])
    return per_model.get(Piece._meta.label, 0), len(pieces)


def purge(now: datetime.datetime | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Apply the retention periods (module docstring). Télédossiers first, so that pièces they alone
    used are judged in the same run. Returns the counts."""
    now = now or timezone.now()
    counts = {"teledossiers": 0, "documents": 0, "pieces": 0, "fichiers": 0}
    for batch in _batches(expired_teledossiers(now), batch_size):
        dossiers, documents, files = _purge_teledossiers(batch, now)
        counts["teledossiers"] += dossiers
        counts["documents"] += documents
        counts["fichiers"] += files
    for batch in _batches(expired_pieces(now), batch_size):
        pieces, files = _purge_pieces(batch, now)
        counts["pieces"] += pieces
        counts["fichiers"] += files
    logger.info(
        "Conservation listes : %(teledossiers)s télédossiers, %(documents)s documents, %(pieces)s pièces, "
        "%(fichiers)s fichiers supprimés", counts,
    )
    return counts
