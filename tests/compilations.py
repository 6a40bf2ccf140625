"""How many SELECT statements the ORM compiles (SQLCompiler.as_sql: the querysets built and compiled,
subqueries included), as opposed to statements compiled once per process (procuration/fixed_select.py
CompiledOnce, FixedSelect). The real method runs; it is only counted."""

from contextlib import contextmanager

from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler


@contextmanager
def select_compilations():
    """Yields the list of the models whose SELECT was compiled (the outermost compilations only)."""
    compiled, depth, original = [], [0], SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        if depth[0] == 0:
            compiled.append(self.query.model)
        depth[0] += 1
        try:
            return original(self, *args, **kwargs)
        finally:
            depth[0] -= 1

    SQLCompiler.as_sql = counting
    try:
        yield compiled
    finally:
        SQLCompiler.as_sql = original


@contextmanager
def insert_compilations():
    """Yields the list of the models whose INSERT the ORM compiled (SQLInsertCompiler.as_sql), as opposed
    to an INSERT written once per process (procuration.fixed_select.insert)."""
    compiled, original = [], SQLInsertCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return original(self, *args, **kwargs)

    SQLInsertCompiler.as_sql = counting
    try:
        yield compiled
    finally:
        SQLInsertCompiler.as_sql = original
