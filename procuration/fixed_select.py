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


class CompiledOnce:
    """An ORM read of model instances compiled once per process and shape, then only run.

    FixedSelect writes simple statements by hand; the transitions' locked read and the fiches' reads
    join six or seven tables (nested select_related, FOR UPDATE OF), where compiling the queryset
    cost ≈ 2 bare views per request (docs/performance.md). Here the ORM itself builds the statement,
    once: `build(**sentinels)` returns the queryset with a sentinel integer in place of each value;
    the compiled SQL and parameters are kept with the positions of the sentinels, and each call runs
    that SQL with the values in their place, turning rows into instances exactly as the ORM's
    ModelIterable does (from_db, converters, select_related's populators). `key` names everything
    else the queryset depends on (the shape), e.g. a role: a sentinel must reach the statement as a
    parameter, never be computed on. A queryset that compiles to nothing (none()) gives no row."""

    _SENTINEL = -7_300_000_001  # no key ever takes these values
    MAX_PLANS = 64

    def __init__(self, build, *names: str):
        self.build, self.names = build, names
        self._plans: dict = {}  # key -> (database alias, plan), the plan None for an empty queryset

    def _plan(self, key):
        from django.core.exceptions import EmptyResultSet
        from django.db.models.query import get_related_populators

        sentinels = {name: self._SENTINEL - i for i, name in enumerate(self.names)}
        qs = self.build(key, **sentinels)
        using = qs.db
        compiler = qs.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()  # FOR UPDATE: refused outside a transaction, as the ORM does
        except EmptyResultSet:
            return using, None
        slots = {value: name for name, value in sentinels.items()}
        positions = [(i, slots[p]) for i, p in enumerate(params) if isinstance(p, int) and p in slots]
        # A value the shape does not use (e.g. the commune of a scope without one) is simply absent.
        select, klass_info = compiler.select, compiler.klass_info
        plan = {
            "sql": sql, "params": list(params), "positions": positions,
            "converters": list(compiler.get_converters([s[0] for s in select[0:compiler.col_count]]).items()),
            "for_update": qs.query.select_for_update,
        }
        if klass_info is not None:  # model instances (not values_list)
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            plan.update(model=klass_info["model"], init=[f[0].target.attname for f in select[start:end]],
                        start=start, end=end, populators=get_related_populators(klass_info, select, using))
        return using, plan

    def tuples(self, key=None, **values) -> list[tuple]:
        """Every row of the statement for these values, as the ORM's values_list() gives them."""
        return [tuple(row) for row in self._run(key, values)[2]]

    def _run(self, key, values):
        from django.db.transaction import TransactionManagementError

        entry = self._plans.get(key)
        if entry is None:
            if len(self._plans) >= self.MAX_PLANS:  # shapes keyed by a day: keep the cache bounded
                self._plans.clear()
            entry = self._plans[key] = self._plan(key)
        using, plan = entry
        if plan is None:
            return using, plan, []
        connection = connections[using]
        if plan["for_update"] and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(plan["params"])
        for i, name in plan["positions"]:
            params[i] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(plan["sql"], params)
            rows = cursor.fetchall()
        if plan["converters"]:  # as SQLCompiler.apply_converters, on this thread's connection
            rows = [list(row) for row in rows]
            for row in rows:
                for pos, (funcs, expression) in plan["converters"]:
                    for func in funcs:
                        row[pos] = func(row[pos], expression, connection)
        return using, plan, rows

    def first(self, key=None, **values):
        """The first instance the queryset gives for these values, or None."""
        using, plan, rows = self._run(key, values)
        if not rows:
            return None
        row = rows[0]
        obj = plan["model"].from_db(using, plan["init"], row[plan["start"]:plan["end"]])
        for populator in plan["populators"]:
            populator.populate(row, obj)
        return obj
