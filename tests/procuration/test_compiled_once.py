"""procuration/fixed_select.py CompiledOnce: a read compiled once per process is the ORM's — the same
statement, the same instance with the same related rows (a null scrutin included), the same tuples —
and it compiles nothing after its first use; FOR UPDATE stays refused outside a transaction."""

import datetime

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from procuration import checks
from procuration.models import Procuration, Scrutin
from procuration.models.procuration import _LOCKED_READ, Portee, locked_with
from tests.compilations import select_compilations
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory

pytestmark = pytest.mark.django_db


def columns(obj):
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def _related(obj, path):
    for name in path.split("__"):
        obj = getattr(obj, name)
        if obj is None:
            return None
    return obj


def test_the_locked_read_is_the_orms_statement_and_instance_and_compiles_once(commune):
    by_scrutin = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    start = datetime.date.today() + datetime.timedelta(days=30)
    for_a_duree = ProcurationFactory(en_attente=True, portee=Portee.DUREE, scrutin=None, valid_from=start,
                                     valid_until=start + datetime.timedelta(days=60),
                                     mandant=ElecteurFactory(commune=commune, bureau=None))
    with transaction.atomic():
        _LOCKED_READ.first(Procuration, pk=by_scrutin.pk)  # the process's first use compiles it
    for p in (by_scrutin, for_a_duree):
        with transaction.atomic():
            orm_qs = Procuration.objects.select_for_update(of=("self",)).select_related(*locked_with())
            expected = orm_qs.get(pk=p.pk)
            with CaptureQueriesContext(connection) as orm_sql:
                list(orm_qs.filter(pk=p.pk).order_by())  # get() without its LIMIT 21 (a primary key)
            with CaptureQueriesContext(connection) as sql, select_compilations() as compiled:
                got = _LOCKED_READ.first(Procuration, pk=p.pk)
        assert compiled == []  # never compiled again
        assert [q["sql"] for q in sql] == [q["sql"] for q in orm_sql]
        assert 'FOR UPDATE OF "procuration_procuration"' in sql[0]["sql"]
        assert columns(got) == columns(expected) and not got._state.adding and got._state.db == "default"
        for path in locked_with():
            assert columns(_related(got, path)) == columns(_related(expected, path)), path
        assert set(got._state.fields_cache) == set(expected._state.fields_cache)
    assert for_a_duree.scrutin_id is None and _related(got, "scrutin") is None
    with transaction.atomic():
        assert _LOCKED_READ.first(Procuration, pk=10**9) is None


@pytest.mark.django_db(transaction=True)
def test_for_update_is_still_refused_outside_a_transaction():
    p = ProcurationFactory(en_attente=True)
    with transaction.atomic():
        assert _LOCKED_READ.first(Procuration, pk=p.pk).pk == p.pk  # compiled, if not yet
    with pytest.raises(TransactionManagementError):  # autocommit: as the ORM's select_for_update
        _LOCKED_READ.first(Procuration, pk=p.pk)


def test_the_binding_read_of_one_procuration_is_the_orms(commune):
    mandant, mandataire = ElecteurFactory(commune=commune), ElecteurFactory(commune=commune)
    ProcurationFactory(validee_autorite=True, mandataire=mandataire)
    ProcurationFactory(en_attente=True, mandant=mandant)
    ProcurationFactory(en_attente=True, mandant=mandant, submitted_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    ProcurationFactory(validee_mairie=True, mandant=mandant, mandataire=mandataire)
    today = datetime.date.today()
    for has_mandataire, has_mandant in ((True, True), (True, False), (False, True)):
        mandataires = {mandataire.pk} if has_mandataire else set()
        mandants = {mandant.pk} if has_mandant else set()
        expected = list(checks._BINDING.queryset(checks._binding(Procuration, mandataires, mandants, today)))
        got = checks._ONE_BINDING.tuples((has_mandataire, has_mandant, today), mandataire=mandataire.pk,
                                         mandant=mandant.pk)
        assert got == expected and got


def test_the_scope_of_a_scrutin_is_the_orms(commune):
    other = CommuneFactory()
    national, partielle = ScrutinFactory(), ScrutinFactory()
    partielle.communes.add(other)
    for scrutin in (national, partielle):
        for c in (commune, other):
            assert scrutin.concerne(c) == Scrutin.objects.concernant(c).filter(pk=scrutin.pk).exists()
            assert scrutin.concerne(c.pk) == scrutin.concerne(c)
    assert not partielle.concerne(commune) and partielle.concerne(other) and national.concerne(commune)
