"""procuration/fixed_select.py: the elector of a login, looked up by one statement written once per
process, is the ORM's — same rows, every column equal, commune and bureau loaded by the same
single query (a null bureau included), radiated and deceased electors left out."""

import datetime

import pytest

from procuration.identity import Pivot
from procuration.models import Electeur
from procuration.registry import _BY_PIVOT, electeur_for_pivot
from tests.compilations import insert_compilations
from tests.factories import BureauDeVoteFactory, CommuneFactory, ElecteurFactory, UserFactory

pytestmark = pytest.mark.django_db


def orm(pivot):
    return list(Electeur.objects.select_related("commune", "bureau").filter(
        date_naissance=pivot.birthdate, sexe=pivot.gender, code_pays_naissance=pivot.birthcountry,
        code_lieu_naissance=pivot.birthplace, inscrit=True, deces=False,
    ).order_by("pk"))


def columns(obj):
    return None if obj is None else {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_the_fixed_statement_gives_the_orms_electors_with_commune_and_bureau(django_assert_num_queries):
    commune = CommuneFactory(nom="Almayrac", code_insee="81005")
    bureau = BureauDeVoteFactory(commune=commune, numero=2)
    born = datetime.date(1980, 5, 12)
    same = {"date_naissance": born, "sexe": "F", "code_pays_naissance": "99100", "code_lieu_naissance": "81005"}
    electors = [
        ElecteurFactory(commune=commune, bureau=bureau, nom="DUPONT", prenoms="Marie Claire", **same),
        ElecteurFactory(commune=commune, bureau=None, nom="DURAND", prenoms="Léa", **same),  # no bureau
        ElecteurFactory(commune=commune, bureau=bureau, nom="MARTIN", prenoms="Zoé", inscrit=False, **same),
        ElecteurFactory(commune=commune, bureau=bureau, nom="PETIT", prenoms="Anne", deces=True, **same),
        ElecteurFactory(commune=commune, bureau=bureau, nom="DUPONT", prenoms="Marie Claire",
                        **{**same, "sexe": "M"}),
        ElecteurFactory(commune=commune, bureau=bureau, nom="DUPONT", prenoms="Marie Claire",
                        **{**same, "date_naissance": datetime.date(1980, 5, 13)}),
    ]
    pivots = {Pivot.of_electeur(e) for e in electors}
    assert len(pivots) >= 4
    for pivot in pivots:
        expected = orm(pivot)
        with django_assert_num_queries(1):
            got = sorted(_BY_PIVOT([pivot.birthdate, pivot.gender, pivot.birthcountry, pivot.birthplace]),
                         key=lambda e: e.pk)
            seen = [(columns(e), columns(e.commune), columns(e.bureau)) for e in got]
        assert seen == [(columns(e), columns(e.commune), columns(e.bureau)) for e in expected]
        assert all(not e._state.adding and e._state.db == "default" for e in got)
    # The two living electors on a list, not the radiated nor the deceased one; DURAND without bureau.
    found = _BY_PIVOT([born, "F", "99100", "81005"])
    assert sorted(e.nom for e in found) == ["DUPONT", "DURAND"]
    assert next(e for e in found if e.nom == "DURAND").bureau is None


def test_the_login_finds_its_elector_with_one_query(django_assert_num_queries):
    e = ElecteurFactory(nom="DUPONT", prenoms="Marie Claire", date_naissance=datetime.date(1980, 5, 12))
    user = UserFactory.build(first_name="Marie Claire", last_name="Dupont", birthdate=e.date_naissance, gender=e.sexe,
                             birthplace=e.code_lieu_naissance, birthcountry=e.code_pays_naissance)
    with django_assert_num_queries(1):
        found, reason = electeur_for_pivot(Pivot.of_user(user))
        assert (found.commune.code_insee, found.bureau_id) == (e.commune.code_insee, e.bureau_id)
    assert (found, reason) == (e, "")


def test_the_mandataire_by_nne_is_the_orms(django_assert_num_queries):
    from procuration.registry import find_mandataire_by_nne

    bureau = BureauDeVoteFactory()
    inscrit = ElecteurFactory(nne="123456789", date_naissance=datetime.date(1975, 2, 3), bureau=bureau,
                              commune=bureau.commune)
    ElecteurFactory(nne="987654321", date_naissance=datetime.date(1975, 2, 3), inscrit=False)
    for nne, born in (("123456789", datetime.date(1975, 2, 3)), ("12345678 9", datetime.date(1975, 2, 3)),
                      ("123456789", datetime.date(1975, 2, 4)), ("987654321", datetime.date(1975, 2, 3)),
                      ("111111111", datetime.date(1975, 2, 3))):
        expected = Electeur.objects.select_related("commune").filter(
            nne=nne.replace(" ", ""), date_naissance=born, inscrit=True).first()
        with django_assert_num_queries(1):
            found = find_mandataire_by_nne(nne, born)
            commune = None if found is None else columns(found.commune)
        assert (columns(found), commune) == (columns(expected), None if expected is None else columns(expected.commune))
    assert find_mandataire_by_nne("123456789", datetime.date(1975, 2, 3)) == inscrit


def test_a_path_of_related_rows_is_the_orms_select_related(django_assert_num_queries):
    """A related name with "__" (police/views.py _FICHE: "mandataire__commune") joins from the row
    named before it and caches the result there; a null key (no scrutin: a durée) gives None, as
    select_related does."""
    from procuration.fixed_select import FixedSelect
    from procuration.models import Procuration
    from procuration.models.procuration import Portee
    from tests.factories import ProcurationFactory

    related = ("mandant", "mandataire", "mandataire__commune", "commune", "scrutin")
    fixed = FixedSelect(Procuration, related, 't."id" = %s')
    with_scrutin = ProcurationFactory(en_attente=True, mandataire__commune=CommuneFactory(nom="Cordes-sur-Ciel"))
    period = ProcurationFactory(en_attente=True, portee=Portee.DUREE, scrutin=None, tour1=False, tour2=False,
                               valid_from=datetime.date(2027, 1, 1), valid_until=datetime.date(2027, 6, 30))
    for p in (with_scrutin, period):
        expected = Procuration.objects.select_related(*related).get(pk=p.pk)
        with django_assert_num_queries(1):
            (got,) = fixed([p.pk])
            seen = (columns(got), columns(got.mandant), columns(got.mandataire), columns(got.mandataire.commune),
                    columns(got.commune), columns(got.scrutin))
        assert seen == (columns(expected), columns(expected.mandant), columns(expected.mandataire),
                        columns(expected.mandataire.commune), columns(expected.commune), columns(expected.scrutin))
    assert fixed([period.pk])[0].scrutin is None
    assert fixed([with_scrutin.pk])[0].mandataire.commune.nom == "Cordes-sur-Ciel"
    assert fixed([-1]) == []


def test_the_rows_of_a_scoped_queryset_are_the_orms(django_assert_num_queries):
    """rows_of: the WHERE of a queryset (here the scoping rule, Procuration.objects.visible_to) as the
    ORM compiles it, the related rows as select_related loads them: the same procurations for each
    kind of user, none for another's (mandant/views.py _get_own, mairie/views.py _procuration)."""
    from django.contrib.auth.models import AnonymousUser

    from procuration.fixed_select import FixedSelect
    from procuration.models import Procuration, Role, Status
    from tests.factories import ProcurationFactory

    related = ("mandant", "mandant__bureau", "mandataire", "mandataire__commune", "scrutin", "commune", "mairie_by")
    fixed = FixedSelect(Procuration, related)
    almayrac, albi = CommuneFactory(nom="Almayrac"), CommuneFactory(nom="Albi")
    mandant, other_mandant = UserFactory(role=Role.MANDANT), UserFactory(role=Role.MANDANT)
    bureau = BureauDeVoteFactory(commune=almayrac)
    mine = ProcurationFactory(en_attente=True, mandant_user=mandant,
                              mandant=ElecteurFactory(commune=almayrac, bureau=bureau))
    draft = ProcurationFactory(mandant_user=mandant, mandant=ElecteurFactory(commune=almayrac))  # brouillon
    elsewhere = ProcurationFactory(validee_autorite=True, mandant_user=other_mandant,
                                   mandant=ElecteurFactory(commune=albi, bureau=None))
    users = [mandant, other_mandant, UserFactory(role=Role.AGENT_MAIRIE, commune=almayrac),
             UserFactory(role=Role.AGENT_MAIRIE, commune=albi), UserFactory(role=Role.ADMIN_NATIONAL), UserFactory(role=Role.POLICIER),
             UserFactory(role=Role.MANDANT, is_active=False), AnonymousUser()]
    seen = set()
    for user in users:
        for p in (mine, draft, elsewhere):
            for qs in (Procuration.objects.visible_to(user),
                       Procuration.objects.visible_to(user).exclude(status=Status.BROUILLON)):
                expected = list(qs.select_related(*related).filter(pk=p.pk))
                with django_assert_num_queries(0 if qs.query.is_empty() else 1):  # none(): no statement
                    got = fixed.rows_of(qs.filter(pk=p.pk))
                assert [(columns(o), columns(o.mandant), columns(o.mandant.bureau), columns(o.mandataire),
                         columns(o.mandataire.commune), columns(o.scrutin), columns(o.commune), columns(o.mairie_by))
                        for o in got] == [
                        (columns(o), columns(o.mandant), columns(o.mandant.bureau), columns(o.mandataire),
                         columns(o.mandataire.commune), columns(o.scrutin), columns(o.commune), columns(o.mairie_by))
                        for o in expected], (user, p.status)
                seen.add(bool(expected))
    assert seen == {True, False}
    assert [o.pk for o in fixed.rows_of(Procuration.objects.visible_to(mandant).filter(pk=mine.pk))] == [mine.pk]
    assert fixed.rows_of(Procuration.objects.visible_to(other_mandant).filter(pk=mine.pk)) == []
    with pytest.raises(ValueError):  # a WHERE through a join is not this tool's
        fixed.rows_of(Procuration.objects.filter(mandant__commune=almayrac))


def test_a_compiled_query_gives_the_orms_rows_for_each_argument(django_assert_num_queries):
    """CompiledOnce.all (mandant/forms.py _OFFER): the scrutins of a commune by the scope rule
    (Scrutin.objects.concernant), compiled once, run for each commune: the ORM's rows, in its order."""
    from procuration.fixed_select import CompiledOnce
    from procuration.models import Scrutin
    from tests.factories import ScrutinFactory

    offer = CompiledOnce(lambda key, commune_id: Scrutin.objects.concernant(commune_id).order_by("date_tour1"),
                         "commune_id").all
    almayrac, albi, cordes = CommuneFactory(), CommuneFactory(), CommuneFactory()
    ScrutinFactory(libelle="Européennes", date_tour1=datetime.date(2027, 6, 6), date_tour2=None)  # national
    ScrutinFactory(libelle="Partielle d'Almayrac", date_tour1=datetime.date(2027, 3, 7)).communes.set([almayrac])
    ScrutinFactory(libelle="Partielle d'Albi et de Cordes", date_tour1=datetime.date(2027, 1, 10)).communes.set(
        [albi, cordes])
    offer(commune_id=almayrac.pk)  # compiled at the first call
    for commune in (almayrac, albi, cordes, CommuneFactory()):
        expected = list(Scrutin.objects.concernant(commune.pk).order_by("date_tour1"))
        with django_assert_num_queries(1):
            got = offer(commune_id=commune.pk)
        assert [columns(s) for s in got] == [columns(s) for s in expected]
        assert all(not s._state.adding for s in got)
    assert [s.libelle for s in offer(commune_id=albi.pk)] == ["Partielle d'Albi et de Cordes", "Européennes"]
    with pytest.raises(ValueError):  # a parameter derived from the argument: not a place to fill in
        CompiledOnce(lambda key, n: Scrutin.objects.filter(libelle=f"Scrutin {n}"), "n").all(n=1)
    with pytest.raises(ValueError):  # a statement whose text follows the value
        CompiledOnce(lambda key, n: Scrutin.objects.filter(pk__in=range(-n % 3 + 1)), "n").all(n=1)


# ------------------------------------------------------------------ insert: the INSERT written once


def _columns(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields if not f.primary_key}


def test_insert_writes_the_row_the_orm_writes_and_sets_the_key():
    from procuration.fixed_select import insert
    from procuration.models import OutboxEmail
    from tests.factories import ProcurationFactory

    p = ProcurationFactory(en_attente=True)
    at = datetime.datetime(2026, 12, 6, 1, 2, 3, tzinfo=datetime.UTC)
    fields = {"kind": "reference_issued", "to": "m@example.fr", "subject": "Objet é", "body_text": "texte",
              "body_html": "<p>é</p>", "procuration": p, "object_ref": "x:1", "created_at": at}
    by_orm = OutboxEmail.objects.create(**fields)
    written = OutboxEmail(**fields)
    insert(written)
    assert written.pk and written.pk != by_orm.pk and not written._state.adding and written._state.db == "default"
    assert _columns(OutboxEmail.objects.get(pk=written.pk)) == _columns(OutboxEmail.objects.get(pk=by_orm.pk))
    # The defaults (state, attempts, claimed_by…) come from the model, as the ORM's create() takes them.
    assert OutboxEmail.objects.get(pk=written.pk).state == OutboxEmail.State.PENDING


@pytest.mark.parametrize("rows", [1, 2, 3, 9])
def test_insert_rows_writes_the_rows_bulk_create_writes(rows, django_assert_num_queries):
    """One statement for any number of rows up to INSERT_ROWS_MAX (then the ORM's bulk_create); the
    keys are left unset; a null foreign key and a negative value are written as they are."""
    from procuration.fixed_select import INSERT_ROWS_MAX, insert_rows
    from procuration.models import ProcurationCount
    from tests.factories import ScrutinFactory

    commune, scrutin = CommuneFactory(), ScrutinFactory()
    spec = [(commune.pk, scrutin.pk if i % 2 else None, f"statut{i}", (-1) ** i * (i + 1)) for i in range(rows)]
    ProcurationCount.objects.bulk_create([ProcurationCount(commune_id=c, scrutin_id=s, status=st, n=n)
                                          for c, s, st, n in spec])
    by_orm = list(ProcurationCount.objects.order_by("pk").values_list("commune_id", "scrutin_id", "status", "n"))
    ProcurationCount.objects.all().delete()
    objs = [ProcurationCount(commune_id=c, scrutin_id=s, status=st, n=n) for c, s, st, n in spec]
    with insert_compilations() as compiled, django_assert_num_queries(1):
        insert_rows(objs)
    assert bool(compiled) == (rows > INSERT_ROWS_MAX)  # the ORM's compiler beyond the maximum only
    assert list(ProcurationCount.objects.order_by("pk").values_list("commune_id", "scrutin_id", "status", "n")) \
        == by_orm == [tuple(r) for r in spec]
    with django_assert_num_queries(0):
        insert_rows([])


def test_the_dossiers_event_goes_through_insert_and_chains():
    from procuration.audit import broken_links
    from procuration.models import ProcurationEvent, Status
    from tests.factories import ProcurationFactory, UserFactory

    p = ProcurationFactory(en_attente=True)
    first = ProcurationEvent.append(p, from_status=Status.EN_ATTENTE, to_status=Status.EN_ATTENTE, reason="un",
                                    actor=UserFactory())
    second = ProcurationEvent.append(p, from_status=Status.EN_ATTENTE, to_status=Status.EN_ATTENTE, reason="deux")
    stored = list(ProcurationEvent.objects.filter(dossier=p.pk).order_by("seq"))
    assert [(e.pk, e.seq, e.hash, e.reason) for e in stored] == [
        (first.pk, 1, first.hash, "un"), (second.pk, 2, second.hash, "deux")]
    assert stored[1].prev_hash == first.hash and not list(broken_links())
