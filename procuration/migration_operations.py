"""Migration operations that keep the previous release running (tests/ops/test_migrations.py) and
still apply on the embedded default's SQLite."""

from django.contrib.postgres.operations import AddIndexConcurrently as _AddIndexConcurrently
from django.db.migrations import AddIndex


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
