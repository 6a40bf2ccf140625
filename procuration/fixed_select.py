"""A SELECT written once per process, for a lookup that every page of a portal makes.

Building an ORM query (filters, joins of select_related, compilation) costs more Python than
running it: the elector of a mandant's login, looked up on every step of the demande, took ≈ 20 %
of the step's CPU under cProfile (docs/performance.md, « Pages du parcours »). FixedSelect writes
the statement from the models' metadata at its first use — every concrete column of the model and
of each forward foreign key named, joined as select_related joins them (INNER JOIN, or LEFT OUTER
JOIN when the key may be null) — then only runs it: the instances come out as the ORM gives them
(Model.from_db, the backend's and the fields' converters applied, the related objects cached on
their foreign key), so the caller reads electeur.commune or electeur.bureau without a query. A
related name may go further, as in select_related: "mandataire__commune" joins the mandataire's
commune (LEFT OUTER JOIN as soon as a key of the path may be null) and caches it on the mandataire.
procuration.auth.FastGetUserMixin does the same for the user of every request.
"""

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, connections, router, transaction


class FixedSelect:
    def __init__(self, model, related: tuple[str, ...], where: str | None = None):
        """`where` is SQL on the model's table under the alias "t", with %s parameters; None: the
        WHERE comes from a queryset at each call (rows_of), the table under its own name."""
        self.model, self.related, self.where = model, related, where
        self._plans: dict[str, tuple] = {}  # database alias -> (sql up to WHERE, layout)

    def _plan(self, connection):
        qn = connection.ops.quote_name
        columns, joins, layout = [], [], []
        table = qn(self.model._meta.db_table)
        main = "t" if self.where is not None else table
        models = [(self.model, main, None, None)]
        paths = {"": (0, False)}  # related path -> (index in models, a key on the way may be null)
        for i, name in enumerate(self.related):
            parent_path, _, attr = name.rpartition("__")
            assert parent_path in paths, f"{name}: select {parent_path} before it"
            parent_index, nullable = paths[parent_path]
            parent_model, parent_alias = models[parent_index][0], models[parent_index][1]
            fk = parent_model._meta.get_field(attr)
            alias = f"r{i}"
            target = fk.related_model
            nullable = nullable or fk.null
            kind = "LEFT OUTER JOIN" if nullable else "INNER JOIN"
            joins.append(f"{kind} {qn(target._meta.db_table)} {alias} "
                         f"ON {alias}.{qn(fk.target_field.column)} = {parent_alias}.{qn(fk.column)}")
            paths[name] = (len(models), nullable)
            models.append((target, alias, fk, parent_index))
        for model, alias, fk, parent_index in models:
            fields = model._meta.concrete_fields
            start = len(columns)
            columns += [f"{alias}.{qn(f.column)}" for f in fields]
            converters = []
            for f in fields:
                col = f.get_col(alias)
                converters.append(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            layout.append((model, fk, parent_index, [f.attname for f in fields], start, start + len(fields),
                           converters, [f.get_col(alias) for f in fields]))
        sql = f"SELECT {', '.join(columns)} FROM {table}{' t' if main == 't' else ''} {' '.join(joins)} WHERE "
        return sql, layout

    def __call__(self, params) -> list:
        return self._run(router.db_for_read(self.model), self.where, params)

    def rows_of(self, queryset) -> list:
        """The rows of `queryset` (filters on this model's own columns: a scoping rule such as
        Procuration.objects.visible_to(user), then .filter(pk=…)), each with its related rows. The
        ORM still builds and compiles the queryset's WHERE on every call — the rule stays where it
        is written — but not the columns, joins and converters of the related rows, which cost
        most (issue 16). A WHERE that needs a join, an ordering, a limit or annotations is refused;
        the model's Meta.ordering is not applied either (rows in no given order: a lookup by pk)."""
        query = queryset.query
        assert query.model is self.model, (query.model, self.model)
        using = queryset.db
        if query.is_empty():
            return []
        compiler = query.get_compiler(using)
        try:
            where, params = compiler.compile(query.where)
        except EmptyResultSet:
            return []
        except FullResultSet:
            where, params = "TRUE", ()
        table = self.model._meta.db_table
        if ({a for a, join in query.alias_map.items() if query.alias_refcount.get(a)} - {table}
                or query.order_by or query.low_mark or query.high_mark is not None or query.annotations
                or query.distinct or query.extra or query.combinator):
            raise ValueError(f"FixedSelect.rows_of: only filters on {table} itself")
        return self._run(using, where, params)

    def _run(self, using, where, params) -> list:
        connection = connections[using]
        plan = self._plans.get(using)
        if plan is None:
            plan = self._plans[using] = self._plan(connection)
        select, layout = plan
        sql = select + where
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found = []
        for row in rows:
            instances = []
            for model, fk, parent_index, attnames, start, end, converters, cols in layout:
                parent = None if fk is None else instances[parent_index]
                if fk is not None and parent is None:  # under a null key: nothing to cache, as select_related
                    instances.append(None)
                    continue
                values = list(row[start:end])
                for i, funcs in enumerate(converters):
                    for func in funcs:
                        values[i] = func(values[i], cols[i], connection)
                if fk is None:
                    instance = model.from_db(using, attnames, values)
                    found.append(instance)
                else:
                    instance = None if values[attnames.index(model._meta.pk.attname)] is None else (
                        model.from_db(using, attnames, values))
                    fk.set_cached_value(parent, instance)
                instances.append(instance)
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
    parameter, never be computed on. A queryset that compiles to nothing (none()) gives no row.

    To prove that, the queryset is built and compiled twice, with two sets of sentinels: the two
    statements must be the same text, and every parameter that differs must be a sentinel of the
    first set facing the same value's sentinel of the second (a list of one sentinel: an array value,
    procuration.lookups.AnyOf on PostgreSQL). Anything else (a value computed on, a statement whose
    shape follows a value) is refused with ValueError at the first call. An array value elsewhere
    than on PostgreSQL (an IN list as long as the values) builds the queryset at each call."""

    _SENTINELS = (-7_300_000_001, -7_400_000_001)  # no key ever takes these values
    MAX_PLANS = 64

    def __init__(self, build, *names: str):
        self.build, self.names = build, names
        self._plans: dict = {}  # key -> (database alias, plan), the plan None for an empty queryset

    def _plan(self, key, arrays=frozenset()):
        from django.core.exceptions import EmptyResultSet
        from django.db.models.query import get_related_populators

        compiled = []
        for base in self._SENTINELS:
            sentinels = {name: base - i for i, name in enumerate(self.names)}
            qs = self.build(key, **{name: [v] if name in arrays else v for name, v in sentinels.items()})
            using = qs.db
            compiler = qs.query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()  # FOR UPDATE: refused outside a transaction, as the ORM does
            except EmptyResultSet:
                return using, None
            compiled.append((sentinels, compiler, sql, list(params)))
        (first, compiler, sql, params), (second, _, other_sql, other_params) = compiled
        if other_sql != sql or len(other_params) != len(params):
            raise ValueError("CompiledOnce: the statement's text follows a value")
        slots = {value: name for name, value in first.items()}
        positions = []
        for i, (a, b) in enumerate(zip(params, other_params, strict=True)):
            if a == b:
                continue  # a constant of the rule
            one = a[0] if isinstance(a, list) and len(a) == 1 else a
            if isinstance(one, int) and one in slots and b == ([second[slots[one]]] if one is not a else
                                                               second[slots[one]]):
                positions.append((i, slots[one]))
            else:
                raise ValueError("CompiledOnce: a parameter computed on a value, not a place to fill in")
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
                        start=start, end=end, populators=get_related_populators(klass_info, select, using),
                        annotations=list(compiler.annotation_col_map.items()))
        return using, plan

    def tuples(self, key=None, **values) -> list[tuple]:
        """Every row of the statement for these values, as the ORM's values_list() gives them."""
        if _built_each_time(values):
            return [tuple(row) for row in self.build(key, **values)]
        return [tuple(row) for row in self._run(key, values)[2]]

    def all(self, key=None, **values) -> list:
        """Every instance the queryset gives for these values, in its order."""
        if _built_each_time(values):
            return list(self.build(key, **values))
        using, plan, rows = self._run(key, values)
        return [self._instance(using, plan, row) for row in rows]

    @staticmethod
    def _instance(using, plan, row):
        obj = plan["model"].from_db(using, plan["init"], row[plan["start"]:plan["end"]])
        for populator in plan["populators"]:
            populator.populate(row, obj)
        for attname, position in plan["annotations"]:  # as ModelIterable: annotate()'s values on the instance
            setattr(obj, attname, row[position])
        return obj

    def _run(self, key, values):
        from django.db.transaction import TransactionManagementError

        arrays = _arrays(values)
        values = {name: list(value) if name in arrays else value for name, value in values.items()}
        entry = self._plans.get((key, arrays))
        if entry is None:
            if len(self._plans) >= self.MAX_PLANS:  # shapes keyed by a day: keep the cache bounded
                self._plans.clear()
            entry = self._plans[(key, arrays)] = self._plan(key, arrays)
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
        if _built_each_time(values):
            return next(iter(self.build(key, **values)), None)
        using, plan, rows = self._run(key, values)
        return self._instance(using, plan, rows[0]) if rows else None


def _arrays(values: dict) -> frozenset:
    """The values given as lists (procuration.lookups.AnyOf: an array on PostgreSQL)."""
    return frozenset(name for name, value in values.items() if isinstance(value, list | tuple | set | frozenset))


def _built_each_time(values: dict) -> bool:
    """An array value elsewhere than on PostgreSQL is an IN list as long as the values: no one statement."""
    return bool(_arrays(values)) and connection.vendor != "postgresql"


def insert(obj) -> None:
    """INSERT the new instance `obj` (obj.save(force_insert=True) of a model with an auto primary key and
    no save() logic to run: ProcurationEvent after its seal, OutboxEmail) by a statement written once
    per process and database from the model's metadata, as FixedSelect writes its SELECT: every concrete
    column but the key, each value as the ORM's INSERT prepares it (pre_save, get_db_prep_save); the key
    returned and set, the instance saved. The ORM's INSERT compiler cost ≈ 1 ms under cProfile per row
    on each state-changing POST (issue 16, docs/performance.md « The récapitulatif's POST »)."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    plan = _INSERTS.get((model, using))
    if plan is None:
        plan = _INSERTS[model, using] = _insert_plan(model, connection)
    fields, sql, returning = plan
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:  # as the ORM's save
        cursor.execute(sql, params)
        if returning:
            pk = cursor.fetchone()[0]
        else:
            pk = connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    obj.pk = pk
    obj._state.adding, obj._state.db = False, using


_INSERTS: dict = {}  # (model, database alias) -> insert's plan; (model, alias, rows) -> insert_rows'


INSERT_ROWS_MAX = 8


def insert_rows(objs) -> None:
    """INSERT the new instances `objs` (one model) in one statement written once per process, database
    and number of rows, as insert() writes its own: for rows nobody reads back in the request (the
    counts' deltas, procuration.counts), whose keys are left unset. ProcurationCount's bulk_create
    compiled its INSERT on every transition (≈ 1.5 ms under cProfile per state-changing POST)."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    assert all(type(obj) is model for obj in objs), objs
    if len(objs) > INSERT_ROWS_MAX:  # a statement per number of rows: a bounded few; beyond, the ORM's batches
        model._default_manager.bulk_create(objs)
        return
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    plan = _INSERTS.get((model, using, len(objs)))
    if plan is None:
        plan = _INSERTS[model, using, len(objs)] = _insert_plan(model, connection, rows=len(objs), key=False)
    fields, sql, _returning = plan
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _insert_plan(model, connection, rows: int = 1, key: bool = True):
    """(fields, sql, returning): the INSERT of `rows` new rows of `model`, the key returned when `key`
    and the database can."""
    pk = model._meta.pk
    assert pk.get_internal_type() in ("AutoField", "BigAutoField"), model  # the database draws the key
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    returning = key and connection.features.can_return_columns_from_insert
    row = f"({', '.join(['%s'] * len(fields))})"
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES {', '.join([row] * rows)}" + (f" RETURNING {qn(pk.column)}" if returning else ""))
    return fields, sql, returning
