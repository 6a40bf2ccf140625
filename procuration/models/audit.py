"""The audit trail: append-only, hash-chained (procuration/chain.py, docs/security.md).

Rows of AuditLog and ProcurationEvent are never changed or deleted, except by the retention purge
inside `purge_mode()`. The guard is here for every database (the ORM's save, delete, update and
delete of querysets refuse); on PostgreSQL a trigger (migration 0004) also refuses UPDATE and
DELETE in SQL unless the transaction set `procuration.purge = 'on'`, which only purge_mode() does.
"""

import contextlib
import contextvars
import functools

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from procuration import chain

_purging = contextvars.ContextVar("procuration_purging", default=False)


class AppendOnlyError(Exception):
    """A change to the audit trail outside the retention purge."""


def purging() -> bool:
    return _purging.get()


@contextlib.contextmanager
def purge_mode():
    """The retention purge, and nothing else, may change or delete rows of the audit trail. Must run
    inside transaction.atomic(): on PostgreSQL the permission is a transaction-local setting."""
    if not connection.in_atomic_block:
        raise AppendOnlyError("purge_mode() doit s'exécuter dans une transaction.")
    token = _purging.set(True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL procuration.purge = 'on'")
    try:
        yield
    finally:
        _purging.reset(token)
        if connection.vendor == "postgresql" and not connection.needs_rollback:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL procuration.purge = 'off'")
            except DatabaseError:
                pass  # the transaction failed and will roll back, the setting with it


def _refuse(what: str):
    raise AppendOnlyError(
        f"Le journal d'audit est en ajout seul : opération refusée ({what}) ; seule la purge de conservation le peut."
    )


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if not purging():
            _refuse("modification")
        return super().update(**kwargs)

    def delete(self):
        if not purging():
            _refuse("suppression")
        return super().delete()

    def bulk_update(self, objs, fields, batch_size=None):
        if not purging():
            _refuse("modification")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, *args, **kwargs):
        _refuse("insertion en masse (hors chaîne)")


class ChainedRow(models.Model):
    """A link of a hash chain: its rank, the previous link's hash, its own hash, and the digest of its
    personal fields (kept by the purge, which empties the fields and the salt)."""

    seq = models.PositiveBigIntegerField("rang dans la chaîne")
    prev_hash = models.CharField("empreinte du maillon précédent", max_length=64)
    hash = models.CharField("empreinte", max_length=64)
    salt = models.CharField(max_length=32, blank=True)
    pii_digest = models.CharField("empreinte des données personnelles", max_length=64)
    purged = models.BooleanField("données personnelles purgées", default=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding and not purging():
            _refuse("modification")
        if self._state.adding and not self.hash:
            _refuse("ajout hors chaîne")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not purging():
            _refuse("suppression")
        return super().delete(*args, **kwargs)

    # Subclasses: the personal fields, the payload, how to empty the personal fields.
    def personal(self) -> dict:
        raise NotImplementedError

    def payload(self) -> dict:
        raise NotImplementedError

    def seal(self, seq: int, prev_hash: str) -> None:
        self.seq, self.prev_hash, self.salt = seq, prev_hash, chain.new_salt()
        self.pii_digest = chain.pii_digest(self.salt, self.personal())
        self.hash = chain.link_hash(prev_hash, self.payload())

    def broken(self, prev_seq: int, prev_hash: str) -> str:
        """Why this link does not follow (prev_seq, prev_hash), or "" when it does."""
        if self.seq != prev_seq + 1:
            return f"rang {self.seq} au lieu de {prev_seq + 1} (maillon manquant ou dupliqué)"
        if self.prev_hash != prev_hash:
            return "ne désigne pas le maillon précédent (empreinte précédente différente)"
        if self.purged:
            if self.salt or any(v not in (None, "", {}) for v in self.personal().values()):
                return "marqué purgé mais garde des données personnelles"
        elif chain.pii_digest(self.salt, self.personal()) != self.pii_digest:
            return "données personnelles modifiées (empreinte différente)"
        if chain.link_hash(self.prev_hash, self.payload()) != self.hash:
            return "contenu modifié (empreinte recalculée différente)"
        return ""


class ChainHead(models.Model):
    """The last link of a chain shared by many writers (the audit entries): locked to append."""

    name = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=chain.GENESIS)

    class Meta:
        verbose_name = "tête de chaîne"

    def __str__(self):
        return f"{self.name} #{self.seq}"

    @classmethod
    def lock(cls, cursor, name: str) -> tuple[int, str]:
        """(seq, hash) of the chain `name`, its row locked until the commit (created if missing)."""
        table = connection.ops.quote_name(cls._meta.db_table)
        select = f"SELECT seq, hash FROM {table} WHERE name = %s FOR UPDATE"
        cursor.execute(select, [name])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"INSERT INTO {table} (name, seq, hash) VALUES (%s, 0, %s) ON CONFLICT (name) DO NOTHING",
                           [name, chain.GENESIS])
            cursor.execute(select, [name])
            row = cursor.fetchone()
        return row[0], row[1]


class AuditLog(ChainedRow):
    """Who looked at or did what (reference lookups at the counter, exports, account changes).

    One chain for all the entries ("audit"); appending locks its ChainHead row until the commit."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    CHAIN = "audit"

    class Meta:
        ordering = ["-at"]
        verbose_name = "journal d'audit"
        constraints = [models.UniqueConstraint(fields=["seq"], name="auditlog_chain_seq_unique")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}:{self.object_id}"

    def personal(self) -> dict:
        return chain.audit_personal(self.ip, self.detail)

    def payload(self) -> dict:
        return chain.audit_payload(
            seq=self.seq, actor_id=self.actor_id, action=self.action, object_type=self.object_type,
            object_id=self.object_id, at=self.at, pii=self.pii_digest,
        )

    @classmethod
    def record(cls, request_or_user, action: str, obj=None, **detail):
        """Append one entry (also procuration.audit.record_audit). Keyword arguments go to `detail`
        (JSON values)."""
        user = getattr(request_or_user, "user", request_or_user)
        ip = None
        if hasattr(request_or_user, "META"):
            from procuration.network import client_ip

            ip = client_ip(request_or_user) or None
        entry = cls(
            actor=user if getattr(user, "is_authenticated", False) else None,
            action=action,
            object_type=obj._meta.label if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            ip=cls._meta.get_field("ip").get_prep_value(ip),
            detail=detail,
            at=timezone.now(),
        )
        if connection.vendor == "postgresql" and cls._append_in_one_statement(entry):
            return entry
        # Two statements while the chain's head is locked (one round trip fewer than lock, INSERT,
        # UPDATE): the head row is the one lock every audited request of the site waits for, e.g.
        # every lookup at the counter (issue 16, docs/performance.md). Same rows, same lock, same
        # transaction as entry.save() + head.save() would write. Also what creates a missing head.
        fields, sql = cls._append_statement(connection.vendor)
        with transaction.atomic(), connection.cursor() as cursor:
            seq, prev_hash = ChainHead.lock(cursor, cls.CHAIN)
            entry.seal(seq + 1, prev_hash)
            cursor.execute(sql, [f.get_db_prep_save(f.pre_save(entry, True), connection) for f in fields]
                           + [entry.seq, entry.hash, cls.CHAIN])
            entry.pk = cursor.fetchone()[0]
        entry._state.adding, entry._state.db = False, connection.alias
        return entry


    @classmethod
    def _append_in_one_statement(cls, entry) -> bool:
        """PostgreSQL: lock the head, write the entry and move the head in ONE statement, the link's
        hash computed by the server (sha256 of the previous hash and the canonical payload, exactly
        chain.link_hash: the payload's keys are sorted and "seq" comes last, so Python writes all of it
        but the rank). Outside a transaction that statement is its own transaction: one round trip
        instead of four (BEGIN, lock, entry + head, COMMIT), and the head locked for one statement
        only. Inside one, a savepoint as before (an error leaves the caller's transaction usable).
        Same rows, same lock, same chain (verify_audit). False when the head does not exist yet (no
        row written): the caller's two-statement path creates it."""
        entry.seq, entry.salt = 0, chain.new_salt()
        entry.pii_digest = chain.pii_digest(entry.salt, entry.personal())
        text = chain.canonical(entry.payload()).decode()
        tail = '"seq":0}'
        assert text.endswith(tail), text  # "seq" is the last key of the canonical payload
        fields, sql = cls._one_statement(connection.vendor)
        params = [cls.CHAIN, text[: -len("0}")]] + [f.get_db_prep_save(f.pre_save(entry, True), connection)
                                                      for f in fields] + [cls.CHAIN]
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
        if row is None:
            return False
        entry.pk, entry.seq, entry.prev_hash, entry.hash = row
        entry._state.adding, entry._state.db = False, connection.alias
        return True

    @classmethod
    @functools.cache
    def _one_statement(cls, vendor: str) -> tuple[list, str]:
        quote = connection.ops.quote_name
        table, head_table = (quote(m._meta.db_table) for m in (cls, ChainHead))
        chained = ("seq", "prev_hash", "hash")
        fields = [f for f in cls._meta.concrete_fields if not f.primary_key and f.attname not in chained]
        columns = ", ".join(quote(cls._meta.get_field(name).column) for name in chained)
        columns += ", " + ", ".join(quote(f.column) for f in fields)
        values = ", ".join(f"%s::{f.db_type(connection)}" for f in fields)
        return fields, (
            f"WITH head AS (SELECT seq, hash FROM {head_table} WHERE name = %s FOR UPDATE), "
            f"link AS (SELECT seq + 1 AS seq, hash AS prev_hash, encode(sha256(convert_to("
            f"hash || chr(10) || %s || (seq + 1)::text || '}}', 'UTF8')), 'hex') AS hash FROM head), "
            f"entry AS (INSERT INTO {table} ({columns}) SELECT link.seq, link.prev_hash, link.hash, {values} "
            f"FROM link RETURNING {quote(cls._meta.pk.column)}, seq, prev_hash, hash), "
            f"moved AS (UPDATE {head_table} SET seq = entry.seq, hash = entry.hash FROM entry "
            f"WHERE {head_table}.name = %s) "
            f"SELECT * FROM entry"
        )

    @classmethod
    @functools.cache
    def _append_statement(cls, vendor: str) -> tuple[list, str]:
        """The columns and the statement that writes an entry and moves the head: built once per process."""
        fields = [f for f in cls._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        table, head_table = (quote(m._meta.db_table) for m in (cls, ChainHead))
        return fields, (
            f"WITH entry AS (INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(cls._meta.pk.column)}) "
            f"UPDATE {head_table} SET seq = %s, hash = %s WHERE name = %s RETURNING (SELECT * FROM entry)"
        )


class AuditDigest(models.Model):
    """The daily digest of the chains (procuration.tasks.record_audit_digest): the audit chain's head
    and one hash over every dossier chain's head. Copy it elsewhere (it is also logged) to anchor it."""

    day = models.DateField("jour", unique=True)
    audit_seq = models.PositiveBigIntegerField("rang de la tête du journal d'audit")
    audit_hash = models.CharField("empreinte de la tête du journal d'audit", max_length=64)
    dossiers = models.PositiveIntegerField("chaînes de dossier")
    dossiers_hash = models.CharField("empreinte des têtes des chaînes de dossier", max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-day"]
        verbose_name = "empreinte quotidienne du journal"

    def __str__(self):
        return f"{self.day} audit #{self.audit_seq} {self.audit_hash[:12]}"

    def save(self, *args, **kwargs):
        if not self._state.adding and not purging():
            _refuse("modification")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not purging():
            _refuse("suppression")
        return super().delete(*args, **kwargs)
