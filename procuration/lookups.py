"""`AnyOf(F("mandataire_id"), ids)`: `col IN (…ids)` written, on PostgreSQL, `col = ANY(%s)` with the
ids as one array parameter.

A page's checks (procuration.checks._load) look up the procurations of its 50 mandataires and 50
mandants: with `__in`, one statement of 100 placeholders whose text changes with the number of
distinct ids. psycopg caches the parsing of a statement only under 50 parameters
(MAX_CACHED_STATEMENT_PARAMS), so it split that query again on every request (≈ 6 % of the mairie
queue's CPU under cProfile, issue 16), and PostgreSQL could not reuse a prepared statement for a
text that varies. With one array parameter the text is the same for 1 or 50 rows: parsed once by
psycopg, prepared once per connection (server-side binding, procuration/settings.py). Same rows as
`__in` (an empty list matches nothing, as `__in=[]` does); other databases get the IN list.

`CompiledSelect`: a values_list() query the ORM builds and compiles once per process and key (the
day, say), its id arrays left open (`Slot`) and filled at each run. The ORM still writes the
statement from the rules (procuration.expiry's, the checks'): nothing is written twice; what is
saved is building and compiling it again on every request (the checks of a page of the mairie
queue: ≈ 1 bare view, issue 16). PostgreSQL only; elsewhere the query is built each time.
"""

import threading

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Lookup


class Slot:
    """A parameter left open in a CompiledSelect's statement: AnyOf(F("mandant_id"), Slot("mandants"))."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"<Slot {self.name}>"


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # a list: each value prepared by the field below, not the list as one value

    def get_prep_lookup(self):
        if isinstance(self.rhs, Slot):
            return self.rhs
        return list(dict.fromkeys(self.rhs))  # a set, a generator…: a list, each value once

    def _values(self):
        if isinstance(self.rhs, Slot):
            return self.rhs  # filled by CompiledSelect at each run
        field = self.lhs.output_field
        field = getattr(field, "target_field", field)  # a foreign key: the values of the key it points to
        values = [field.get_prep_value(v) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        return values

    def as_sql(self, compiler, connection):
        if isinstance(self.rhs, Slot):
            raise TypeError("A Slot is compiled on PostgreSQL only (CompiledSelect).")
        lhs, params = self.process_lhs(compiler, connection)
        values = self._values()
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*params, *values)

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self._values())


class CompiledSelect:
    """`build(key, **slots)` returns a values_list() queryset whose id lists are AnyOf(…, slot);
    `select(model, key, **lists)` runs it with these lists and returns its rows (tuples, the ORM's
    converters applied), compiling it only for a new (database, key, slots named). `key` holds
    everything else the statement depends on (e.g. the day and the time zone of a date rule). At
    most MAX statements are kept (then all are dropped: a new day starts afresh)."""

    MAX = 16

    def __init__(self, build):
        self.build = build
        self._plans: dict = {}
        self._lock = threading.Lock()

    def select(self, model, key, **lists) -> list:
        using = router.db_for_read(model)
        connection = connections[using]
        values = {name: list(dict.fromkeys(ids)) for name, ids in lists.items()}
        if connection.vendor != "postgresql":
            return list(self.build(key, **values))
        plan_key = (using, key, tuple(sorted(values)))
        plan = self._plans.get(plan_key)
        if plan is None:
            compiler = self.build(key, **{name: Slot(name) for name in values}).query.get_compiler(using)
            sql, params = compiler.as_sql()
            converters = compiler.get_converters([s[0] for s in compiler.select[0:compiler.col_count]])
            plan = (sql, tuple(params), list(converters.items()))
            with self._lock:
                if len(self._plans) >= self.MAX:
                    self._plans.clear()
                self._plans[plan_key] = plan
        sql, params, converters = plan
        params = [values[p.name] if isinstance(p, Slot) else p for p in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for pos, (funcs, expression) in converters:
                    for func in funcs:
                        row[pos] = func(row[pos], expression, connection)
        return rows
