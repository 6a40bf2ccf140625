"""Rows of a page read with values_list(): the columns it reads, as plain objects.

A page of 50 procurations loaded as model instances with their related rows costs ≈ 300 instances
and every column of five tables (issue 16, docs/performance.md); most of that is the instances.
`Columns` names what a page reads, per relation path ("" for the row itself, "mandant",
"mandant__bureau"…), reads exactly that in one query and nests it back: `p.mandant.bureau.numero`,
`p.scrutin` None when the row has none (a relation is present iff its id is not null).

The row classes may borrow the model's own properties (`peut_voter = Electeur.peut_voter`): a rule
stays written once, on the model, and runs on both. Reading a column the page did not ask for
raises AttributeError: never a silent query per row.

`by_pk(model, pks)` reads the same columns of given rows by one statement written once per process
from the models' metadata (joined as values_list() joins them), instead of building and compiling
a 40-column ORM query on every request (≈ 1.3 bare views for the mairie queue: issue 16,
docs/performance.md). The page's filters and order stay in the ORM, which gives the pks.
"""

from django.db import connections, router


class Row:
    """One object of a row: its columns as attributes; `pk` is its id."""

    def __init__(self, values: dict):
        self.__dict__.update(values)

    @property
    def pk(self):
        return self.id

    def __repr__(self):
        return f"<{type(self).__name__} {self.__dict__}>"


class Columns:
    """{relation path: column names} of one queryset's model, with the class of each path's rows."""

    def __init__(self, spec: dict[str, tuple[str, ...]], classes: dict[str, type[Row]] | None = None):
        self.spec = {path: tuple(dict.fromkeys(("id", *names))) for path, names in spec.items()}
        for path in list(self.spec):  # every parent of a path is read too (its id at least)
            parts = path.split("__") if path else []
            for i in range(len(parts)):
                self.spec.setdefault("__".join(parts[:i]), ("id",))
        self.classes = dict(classes or {})
        # Parents before children; the query's column order follows.
        self._paths = sorted(self.spec, key=lambda p: (p.count("__") + bool(p), p))
        self.names = [f"{path}__{name}" if path else name for path in self._paths for name in self.spec[path]]
        layout, start = [], 0
        for path in self._paths:
            names = self.spec[path]
            parent, _, attr = path.rpartition("__") if "__" in path else ("", "", path)
            layout.append((path, parent, attr, self.classes.get(path, Row), names, start, start + len(names)))
            start += len(names)
        self._layout = layout
        self._plans: dict = {}  # (model, database alias) -> by_pk's statement

    def __or__(self, other: "Columns") -> "Columns":
        spec = {path: self.spec.get(path, ()) + other.spec.get(path, ()) for path in {**self.spec, **other.spec}}
        for path in set(self.classes) & set(other.classes):
            if self.classes[path] is not other.classes[path]:
                raise ValueError(f"Two row classes for {path!r}: {self.classes[path]} and {other.classes[path]}.")
        return Columns(spec, {**other.classes, **self.classes})

    def queryset(self, qs):
        """qs reading these columns only (its filters, order and slice kept)."""
        return qs.values_list(*self.names)

    def rows(self, tuples) -> list[Row]:
        """The nested rows of tuples read by queryset() (or of queryset() itself)."""
        out = []
        new = object.__new__
        layout = self._layout
        for t in tuples:
            made = {}
            for path, parent, attr, cls, names, start, end in layout:
                if not path:
                    obj = new(cls)
                    obj.__dict__ = dict(zip(names, t[start:end]))  # noqa: B905 - the layout made both
                else:
                    up = made[parent]
                    if up is None or t[start] is None:  # t[start] is the relation's id
                        obj = None
                    else:
                        obj = new(cls)
                        obj.__dict__ = dict(zip(names, t[start:end]))  # noqa: B905
                    if up is not None:
                        up.__dict__[attr] = obj
                made[path] = obj
            out.append(made[""])
        return out

    def load(self, qs) -> list[Row]:
        return self.rows(self.queryset(qs))

    def by_pk(self, model, pks, pad_to: int = 0) -> list[Row]:
        """The rows of `model` whose pks are `pks`, in that order (a pk not found is left out): the
        same objects as load() gives, read by one statement written once per process and database.

        pad_to (a page's size): on PostgreSQL the array is filled up to that length with its last pk,
        which reads no other row. The statement is prepared on the connection from its sixth run
        (DB_PREPARE_THRESHOLD), and PostgreSQL then keeps its generic plan only if a custom plan is
        not estimated cheaper; for 1 to 5 pks it was, so a commune's short queue was planned again on
        every request (0.94 ms of planning a run in the load bench, docs/performance.md). Padded, the
        estimate is a full page's, whatever the rows."""
        pks = list(pks)
        if not pks:
            return []
        using = router.db_for_read(model)
        connection = connections[using]
        plan = self._plans.get((model, using))
        if plan is None:
            plan = self._plans[model, using] = self._plan(model, connection)
        sql, converters = plan
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # one array: the same statement for 1 or 50 rows
                cursor.execute(f"{sql} = ANY(%s)", [pks + pks[-1:] * (pad_to - len(pks))])
            else:
                cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(pks))})", pks)
            tuples = cursor.fetchall()
        if converters:
            tuples = [list(t) for t in tuples]
            for t in tuples:
                for i, funcs, col in converters:
                    for func in funcs:
                        t[i] = func(t[i], col, connection)
        rank = {pk: i for i, pk in enumerate(pks)}
        rows = self.rows(tuples)
        rows.sort(key=lambda row: rank[row.id])
        return rows

    def _plan(self, model, connection):
        """(sql, converters) of by_pk: each path joined as values_list() joins it (INNER JOIN on a
        key that may not be null, LEFT OUTER JOIN on one that may, and under a LEFT OUTER JOIN), the
        columns in the order of self.names, the backend's and the fields' converters as the ORM applies."""
        qn = connection.ops.quote_name
        models, aliases, outer = {"": model}, {"": "t"}, {"": False}
        joins, columns, converters = [], [], []
        for i, path in enumerate(self._paths):
            if path:
                parent, _, attr = path.rpartition("__") if "__" in path else ("", "", path)
                fk = models[parent]._meta.get_field(attr)
                models[path], aliases[path] = fk.related_model, f"r{i}"
                outer[path] = fk.null or outer[parent]
                joins.append(f"{'LEFT OUTER' if outer[path] else 'INNER'} JOIN {qn(fk.related_model._meta.db_table)} "
                             f"{aliases[path]} ON {aliases[path]}.{qn(fk.target_field.column)} = "
                             f"{aliases[parent]}.{qn(fk.column)}")
            for name in self.spec[path]:
                field = models[path]._meta.get_field(name)
                col = field.get_col(aliases[path])
                funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if funcs:
                    converters.append((len(columns), funcs, col))
                columns.append(f"{aliases[path]}.{qn(field.column)}")
        sql = (f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} t {' '.join(joins)} "
               f"WHERE t.{qn(model._meta.pk.column)}")
        return sql, converters
