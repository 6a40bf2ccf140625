"""Migration operations that keep the previous release running (tests/ops/test_migrations.py) and
still apply on the embedded default's SQLite."""

from django.contrib.postgres.operations import AddIndexConcurrently as _AddIndexConcurrently
from django.contrib.postgres.operations import RemoveIndexConcurrently as _RemoveIndexConcurrently
from django.contrib.postgres.operations import TrigramExtension as _TrigramExtension
from django.db.migrations import AddIndex, RemoveIndex


class AddIndexConcurrently(_AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL (writes go on while it builds; the migration must say
    atomic = False); a plain CREATE INDEX elsewhere (SQLite has no such option, and no concurrent
    release to keep running)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(_RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL (atomic = False, as above); a plain DROP INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class TrigramExtension(_TrigramExtension):
    """CREATE EXTENSION pg_trgm on PostgreSQL, nothing elsewhere, in both directions (Django's own
    operation skips other databases forwards only). pg_trgm is a trusted extension since
    PostgreSQL 13: the database's owner creates it, no superuser needed (docs/ops/operations.md)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
