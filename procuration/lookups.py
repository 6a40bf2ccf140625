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

A statement with AnyOf arrays is compiled once per process by procuration.fixed_select.CompiledOnce
(a list of one sentinel marks the array's place; the checks of a page of the mairie queue: ≈ 1 bare
view saved, issue 16).
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False  # a list: each value prepared by the field below, not the list as one value

    def get_prep_lookup(self):
        return list(dict.fromkeys(self.rhs))  # a set, a generator…: a list, each value once

    def _values(self):
        field = self.lhs.output_field
        field = getattr(field, "target_field", field)  # a foreign key: the values of the key it points to
        values = [field.get_prep_value(v) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        return values

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        values = self._values()
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", (*params, *values)

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self._values())
