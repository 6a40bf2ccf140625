"""Migration operations that keep the previous release running (tests/ops/test_migrations.py) and
still apply on the embedded default's SQLite."""

import functools

from django.contrib.postgres.operations import AddIndexConcurrently as _AddIndexConcurrently
from django.contrib.postgres.operations import RemoveIndexConcurrently as _RemoveIndexConcurrently
from django.contrib.postgres.operations import TrigramExtension as _TrigramExtension
from django.db.migrations import AddIndex, RemoveIndex


class _ConcurrentOnPostgreSQL:
    """On PostgreSQL the concurrent operation (writes go on meanwhile; the migration must say
    atomic = False); elsewhere `plain`, the same operation without CONCURRENTLY (SQLite has no such
    option, and no concurrent release to keep running)."""

    plain = None  # the operation applied on other databases

    def _apply(self, direction, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            apply = getattr(super(), direction)
        else:
            apply = functools.partial(getattr(self.plain, direction), self)
        return apply(app_label, schema_editor, from_state, to_state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        return self._apply("database_forwards", app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        return self._apply("database_backwards", app_label, schema_editor, from_state, to_state)


class AddIndexConcurrently(_ConcurrentOnPostgreSQL, _AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere."""

    plain = AddIndex


class RemoveIndexConcurrently(_ConcurrentOnPostgreSQL, _RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain DROP INDEX elsewhere."""

    plain = RemoveIndex


class TrigramExtension(_TrigramExtension):
    """CREATE EXTENSION pg_trgm on PostgreSQL, nothing elsewhere, in both directions (Django's own
    operation skips other databases forwards only). pg_trgm is a trusted extension since
    PostgreSQL 13: the database's owner creates it, no superuser needed (docs/ops/operations.md)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
