"""A SELECT written once per process, for a lookup that every page of a portal makes.

Building an ORM query (filters, joins of select_related, compilation) costs more Python than
running it: the elector of a mandant's login, looked up on every step of the demande, took ≈ 20 %
of the step's CPU under cProfile (docs/performance.md, « Pages du parcours »). FixedSelect writes
the statement from the models' metadata at its first use — every concrete column of the model and
of each forward foreign key named, joined as select_related joins them (INNER JOIN, or LEFT OUTER
JOIN when the key may be null) — then only runs it: the instances come out as the ORM gives them
(Model.from_db, the backend's and the fields' converters applied, the related objects cached on
their foreign key), so the caller reads electeur.commune or electeur.bureau without a query.
procuration.auth.FastGetUserMixin does the same for the user of every request.
"""

from django.db import connections, router


class FixedSelect:
    def __init__(self, model, related: tuple[str, ...], where: str):
        """`where` is SQL on the model's table under the alias "t", with %s parameters."""
        self.model, self.related, self.where = model, related, where
        self._plans: dict[str, tuple] = {}  # database alias -> (sql, layout)

    def _plan(self, connection):
        qn = connection.ops.quote_name
        columns, joins, layout = [], [], []
        models = [(self.model, "t", None)]
        for i, name in enumerate(self.related):
            fk = self.model._meta.get_field(name)
            alias = f"r{i}"
            target = fk.related_model
            kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
            joins.append(f"{kind} {qn(target._meta.db_table)} {alias} "
                         f"ON {alias}.{qn(fk.target_field.column)} = t.{qn(fk.column)}")
            models.append((target, alias, fk))
        for model, alias, fk in models:
            fields = model._meta.concrete_fields
            start = len(columns)
            columns += [f"{alias}.{qn(f.column)}" for f in fields]
            converters = []
            for f in fields:
                col = f.get_col(alias)
                converters.append(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            layout.append((model, fk, [f.attname for f in fields], start, start + len(fields), converters,
                           [f.get_col(alias) for f in fields]))
        sql = (f"SELECT {', '.join(columns)} FROM {qn(self.model._meta.db_table)} t {' '.join(joins)} "
               f"WHERE {self.where}")
        return sql, layout

    def __call__(self, params) -> list:
        using = router.db_for_read(self.model)
        connection = connections[using]
        plan = self._plans.get(using)
        if plan is None:
            plan = self._plans[using] = self._plan(connection)
        sql, layout = plan
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            main = None
            for model, fk, attnames, start, end, converters, cols in layout:
                values = list(row[start:end])
                for i, funcs in enumerate(converters):
                    for func in funcs:
                        values[i] = func(values[i], cols[i], connection)
                if fk is None:
                    main = model.from_db(using, attnames, values)
                    found.append(main)
                else:
                    related = None if values[attnames.index(model._meta.pk.attname)] is None else (
                        model.from_db(using, attnames, values))
                    fk.set_cached_value(main, related)
        return found
