"""Details of the state machine (procuration/models/procuration.py) that the mutation run of
5 December evening found untested (docs/testing.md, « machine survivors of the evening run »):
the paper form's two mentions, who sees what, where the origin and the authority's label come
from, the commune's automatic validation read under the lock, the reasons logged, the round trips
of the dossier's event, the reference's 20 draws. Expectations are written out, never read from
production tables."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

import procuration.models.procuration as procuration_module
from procuration.exceptions import DomainError, TransitionError
from procuration.models import (
    Commune,
    IdentiteVerifiee,
    InvalidationMotif,
    Procuration,
    ProcurationEvent,
    Status,
    User,
    Verificateur,
)
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, UserFactory


def _statements(action) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        action()  # inside the test's transaction: a transaction's BEGIN is a SAVEPOINT here
    return [q["sql"] for q in captured]


def _locks_of_the_procuration(sql: list[str]) -> list[str]:
    return [s for s in sql if "FOR UPDATE" in s and 'FROM "procuration_procuration"' in s]


# ------------------------------------------------------------------ a paper form keyed in at the mairie


@pytest.mark.parametrize(("autorite", "date_etablissement"), [
    ("Commissariat de police de Gaillac", None),  # the date the authority signed is missing
    ("   ", datetime.date(2026, 11, 2)),  # the authority is missing
])
def test_a_paper_form_keyed_in_at_the_mairie_needs_both_the_authority_and_its_date(agent_mairie, autorite,
                                                                                      date_etablissement):
    p = ProcurationFactory(origine="cerfa_papier")
    identite = IdentiteVerifiee(Verificateur.MAIRIE, by=agent_mairie, autorite=autorite,
                                date_etablissement=date_etablissement)
    with pytest.raises(DomainError) as excinfo:
        p.etablir(identite, by=agent_mairie)
    assert excinfo.value.message == "Indiquez l'autorité qui a établi le formulaire et sa date."
    assert excinfo.value.field == "autorite"
    p.refresh_from_db()
    assert p.status == Status.BROUILLON and p.reference is None and not p.events.exists()


# ------------------------------------------------------------------ where the origin and the label come from


def test_the_counter_and_the_mairie_keep_the_origin_only_france_identite_sets_its_own(policier, agent_mairie):
    """origine « france_identite » says the mandant proved who they are online: never after a check at the
    counter (the demande stays « en ligne ») nor for a paper form keyed in (it stays « cerfa_papier »)."""
    counter = ProcurationFactory(en_attente=True)
    counter.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="AB12")
    paper = ProcurationFactory(origine="cerfa_papier")
    paper.etablir(IdentiteVerifiee(Verificateur.MAIRIE, by=agent_mairie, autorite="Commissariat de police de Gaillac",
                                   date_etablissement=datetime.date(2026, 11, 2)), by=agent_mairie)
    online = ProcurationFactory(en_attente=True)
    online.valider_autorite(france_identite=True)
    origins = {name: Procuration.objects.get(pk=p.pk).origine
               for name, p in (("counter", counter), ("paper", paper), ("online", online))}
    assert origins == {"counter": "en_ligne", "paper": "cerfa_papier", "online": "france_identite"}
    assert Procuration.objects.get(pk=paper.pk).autorite_label == (
        "Commissariat de police de Gaillac, le 02/11/2026 (formulaire papier)")


def test_an_officers_label_longer_than_the_column_is_cut_at_300_characters(db):
    """autorite_label holds 300 characters; nom (150), prénom (150), qualité and unité (200) may be more."""
    officer = UserFactory(username="opj-long", policier=True, last_name="L" * 100, first_name="Julie",
                          qualite="OPJ", unite="B" * 200)
    p = ProcurationFactory(en_attente=True)
    assert p.valider_autorite(by=officer, piece_type="cni", piece_numero_fin="AB12") is True
    label = Procuration.objects.get(pk=p.pk).autorite_label
    assert label == "L" * 100 + " Julie, Officier de police judiciaire (" + "B" * 161
    assert len(label) == 300


# ------------------------------------------------------------------ who sees which procuration


def test_an_inactive_account_sees_no_procuration(mandant_user, commune):
    """A deactivated account keeps its role and commune: it sees nothing, whatever its role."""
    ProcurationFactory(en_attente=True, mandant_user=mandant_user)
    ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    agent = UserFactory(username="agent-inactif", agent_mairie=True, commune=commune)
    admin = UserFactory(username="admin-inactif", admin_national=True)
    assert {u.role: Procuration.objects.visible_to(u).count() for u in (mandant_user, agent, admin)} == {
        "mandant": 1, "agent_mairie": 1, "admin_national": 2}
    for user in (mandant_user, agent, admin):
        User.objects.filter(pk=user.pk).update(is_active=False)
    assert {u.role: Procuration.objects.visible_to(User.objects.get(pk=u.pk)).count()
            for u in (mandant_user, agent, admin)} == {"mandant": 0, "agent_mairie": 0, "admin_national": 0}
    assert not Procuration.objects.visible_to(AnonymousUser()).exists()


def test_a_policier_whose_account_names_a_commune_sees_no_procuration(commune):
    """An agent who became an officer keeps the commune on the account (the database allows it): the list of
    the commune's procurations is the mairie's alone; a policier looks up one reference at a time."""
    ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    officer = UserFactory(username="opj-ex-agent", policier=True, commune=commune)
    assert officer.commune_id == commune.pk
    assert not Procuration.objects.visible_to(User.objects.get(pk=officer.pk)).exists()


def test_the_national_administrator_as_the_session_loads_them_sees_every_procuration(db):
    """request.user comes from the database: its role is a plain str, not the Role member."""
    p = ProcurationFactory(en_attente=True)
    q = ProcurationFactory(validee_mairie=True)
    admin = User.objects.get(pk=UserFactory(username="admin-db", admin_national=True).pk)
    assert type(admin.role) is str
    assert set(Procuration.objects.visible_to(admin)) == {p, q}


# ------------------------------------------------------------------ etablir


@pytest.mark.parametrize("status", ["en_attente", "validee_autorite", "refusee_autorite", "validee_mairie",
                                    "invalidee_mairie", "resiliee", "expiree", "echue", "annulee"])
def test_only_a_brouillon_can_be_established(policier, status):
    p = ProcurationFactory(en_attente=True, status=status)
    before = Procuration.objects.filter(pk=p.pk).values().get()
    with pytest.raises(TransitionError) as excinfo:
        p.etablir(IdentiteVerifiee(Verificateur.AUTORITE, by=policier), by=policier)
    assert str(excinfo.value) == "Seule une demande en cours de saisie peut être établie."
    assert Procuration.objects.filter(pk=p.pk).values().get() == before
    assert not p.events.exists()


# ------------------------------------------------------------------ the commune's automatic validation


def test_the_automatic_validation_reads_the_commune_itself_when_the_procuration_has_not_cached_it(commune):
    commune.auto_validation = True
    commune.save()
    p = Procuration.objects.get(pk=ProcurationFactory(validee_autorite=True,
                                                      mandant=ElecteurFactory(commune=commune)).pk)
    assert "commune" not in p._state.fields_cache
    assert p._valider_automatiquement() is True
    assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_MAIRIE


def _free_commune_pk(small: bool) -> int:
    """A commune id no row holds: below 257 (CPython shares those int objects) or far beyond the sequence."""
    start = 1 if small else 1_000_001
    return next(n for n in range(start, start + 256) if not Commune.objects.filter(pk=n).exists())


@pytest.mark.parametrize("small_pk", [True, False], ids=["small-id", "large-id"])
def test_the_automatic_validation_uses_the_commune_read_under_the_lock(db, policier, small_pk):
    """valider_autorite then the commune's automatic validation: the commune comes with the locked row
    (one statement), whatever its id; never read again on its own."""
    commune = CommuneFactory(pk=_free_commune_pk(small_pk), code_insee="81999", auto_validation=True)
    p = ProcurationFactory(en_attente=True, mandant=ElecteurFactory(commune=commune))
    sql = _statements(lambda: p.valider_autorite(by=policier, piece_type="cni", piece_numero_fin="AB12"))
    assert Procuration.objects.get(pk=p.pk).status == Status.VALIDEE_MAIRIE
    assert not [s for s in sql if s.startswith("SELECT") and '"procuration_commune"."auto_validation"' in s
                and 'FROM "procuration_commune"' in s], sql


# ------------------------------------------------------------------ the reasons logged


def test_an_invalidation_logs_its_motif_and_the_detail_only_when_given(agent_mairie):
    with_detail = ProcurationFactory(validee_autorite=True)
    with_detail.invalider_mairie(by=agent_mairie, motif=InvalidationMotif.AUTRE, detail="Homonyme")
    without = ProcurationFactory(validee_autorite=True)
    without.invalider_mairie(by=agent_mairie, motif=InvalidationMotif.MANDANT_NON_INSCRIT)
    assert with_detail.events.get().reason == "Autre motif : Homonyme"
    assert without.events.get().reason == "Le mandant n'est pas inscrit sur la liste électorale de la commune"


def test_a_resiliation_with_the_identity_checked_logs_the_reason_then_the_check(db):
    given = ProcurationFactory(validee_autorite=True)
    given.resilier(reason="Je voterai moi-même", identite=IdentiteVerifiee.france_identite(given.mandant))
    bare = ProcurationFactory(validee_autorite=True)
    bare.resilier(identite=IdentiteVerifiee.france_identite(bare.mandant))
    assert given.events.get().reason == (
        "Je voterai moi-même — Identité vérifiée : France Identité (identité numérique certifiée)")
    assert bare.events.get().reason == "Identité vérifiée : France Identité (identité numérique certifiée)"


# ------------------------------------------------------------------ the dossier's event: lock and savepoint


def test_a_resiliation_request_locks_the_procuration_once_in_one_transaction(db, mandant_user,
                                                                            django_assert_num_queries):
    """demander_resiliation holds the row's lock: its event needs neither a savepoint nor a second lock.
    SAVEPOINT, SELECT … FOR UPDATE, UPDATE, the last link, INSERT, RELEASE SAVEPOINT."""
    p = ProcurationFactory(validee_autorite=True, mandant_user=mandant_user)
    with django_assert_num_queries(6) as captured:
        assert p.demander_resiliation(by=mandant_user) is True
    sql = [q["sql"] for q in captured.captured_queries]
    assert len(_locks_of_the_procuration(sql)) == 1
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1
    event = p.events.get()
    assert (event.seq, event.from_status, event.to_status) == (1, "validee_autorite", "validee_autorite")


def test_an_event_appended_on_its_own_locks_the_procuration_in_a_savepoint(db, django_assert_num_queries):
    """Outside a transition (no lock held): the chain's head, the procuration row, is locked first,
    in a savepoint of its own. SAVEPOINT, SELECT … FOR UPDATE, the last link, INSERT, RELEASE SAVEPOINT."""
    p = ProcurationFactory(en_attente=True)
    with django_assert_num_queries(5) as captured:
        event = ProcurationEvent.append(p, from_status=Status.BROUILLON, to_status=Status.EN_ATTENTE)
    sql = [q["sql"] for q in captured.captured_queries]
    assert sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT")
    assert len(_locks_of_the_procuration(sql)) == 1
    assert sql.index(_locks_of_the_procuration(sql)[0]) == 1  # locked before the last link is read
    assert (event.seq, event.dossier) == (1, p.pk)


# ------------------------------------------------------------------ the reference's draws (docs/domain.md: 20)


def test_a_reference_is_found_on_the_twentieth_draw_and_not_after(db, monkeypatch):
    ProcurationFactory(en_attente=True, reference="TAKEN0")
    draws = iter(["TAKEN0"] * 19 + ["FRESH1"])
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: next(draws))
    p = ProcurationFactory()
    assert p.soumettre() is True
    assert Procuration.objects.get(pk=p.pk).reference == "FRESH1"

    drawn = []
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: drawn.append("TAKEN0") or "TAKEN0")
    q = ProcurationFactory()
    with pytest.raises(IntegrityError):
        q.soumettre()
    assert len(drawn) == 20
    q.refresh_from_db()
    assert q.status == Status.BROUILLON and q.reference is None
