"""Procuration.deposer: the mandant's demande inserted and submitted in one transaction, its reference
drawn with its INSERT (issue 16, docs/performance.md « The récapitulatif's POST »). Same rows as
save() + soumettre(): the reference, the event (first link of the dossier's chain), the counts, the
search keys, the Change row and the outbox row; without the savepoints, the reference's UPDATE, the
locked re-read of the row just inserted and the read of its empty chain."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from api.models import Change
from procuration import chain, counts, search
from procuration.audit import broken_links
from procuration.exceptions import DomainError, TransitionError
from procuration.models import OutboxEmail, Procuration, ProcurationEvent, Status
from procuration.models import procuration as procuration_module
from procuration.models.search import SearchKey
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


def _demande(commune, **kwargs):
    """An unsaved demande with its related rows, as the récapitulatif builds it."""
    return ProcurationFactory.build(
        mandant=ElecteurFactory(commune=commune), mandataire=ElecteurFactory(commune=commune),
        scrutin=kwargs.pop("scrutin", None) or ScrutinFactory(), email_contact="marie@example.fr", **kwargs,
    )


def _filed(p):
    p = Procuration.objects.get(pk=p.pk)
    assert p.status == Status.EN_ATTENTE and p.reference and p.submitted_at
    events = list(ProcurationEvent.objects.filter(dossier=p.pk).order_by("seq"))
    assert [(e.seq, e.prev_hash, e.from_status, e.to_status) for e in events] == [
        (1, chain.GENESIS, Status.BROUILLON, Status.EN_ATTENTE)]
    assert not list(broken_links())
    assert OutboxEmail.objects.filter(procuration=p, kind="reference_issued").count() == 1
    assert Change.objects.filter(object_id=p.pk, event="procuration.soumettre").count() == 1
    assert SearchKey.objects.filter(procuration_id=p.pk).exists()
    return p


def test_deposer_files_the_demande_without_savepoint_relock_nor_chain_read(commune):
    p = _demande(commune)
    user = UserFactory()
    with CaptureQueriesContext(connection) as captured:
        assert p.deposer(by=user) is p
    sql = [q["sql"] for q in captured]
    # The test's transaction makes deposer's BEGIN a savepoint: the only one.
    assert len([s for s in sql if s.startswith("SAVEPOINT")]) == 1, sql
    assert not [s for s in sql if "FOR UPDATE" in s and 'FROM "procuration_procuration"' in s], sql
    assert not [s for s in sql if s.startswith("SELECT") and '"procuration_procurationevent"' in s], sql
    updates = [s for s in sql if s.startswith('UPDATE "procuration_procuration"')]
    assert len(updates) == 1 and '"status"' in updates[0], updates  # the transition's, no reference UPDATE alone
    inserts = [s for s in sql if s.startswith('INSERT INTO "procuration_procuration"')]
    assert len(inserts) == 1 and p.reference in inserts[0]  # drawn with the INSERT
    stored = _filed(p)
    assert stored.reference == p.reference and ProcurationEvent.objects.get(dossier=p.pk).actor_id == user.pk
    assert counts.for_commune(commune.pk) == [{"scrutin_id": p.scrutin_id, "statut": Status.EN_ATTENTE, "n": 1}]


def test_a_reference_already_taken_retries_the_whole_transaction_with_a_new_draw(commune, monkeypatch):
    taken = ProcurationFactory(en_attente=True, reference="TAKEN0", mandant=ElecteurFactory(commune=commune))
    draws = iter(["TAKEN0", "TAKEN0", "FRESH1"])
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: next(draws))
    p = _demande(commune)
    p.deposer(by=UserFactory())
    assert _filed(p).reference == "FRESH1"
    assert Procuration.objects.count() == 2 and Procuration.objects.get(reference="TAKEN0") == taken
    # Nothing of the two rolled-back attempts stays: the keys of its names once each, one count.
    # (The expected keys come from this demande's own names: two Faker names may have different
    # numbers of words, e.g. « de Oliveira », so another procuration's count is no yardstick.)
    expected = sorted([(w, False) for w in search.words_of(p.mandant.noms_recherche)]
                      + [(w, True) for w in search.words_of(p.mandataire.noms_recherche)])
    assert sorted(SearchKey.objects.filter(procuration_id=p.pk).values_list("token", "mandataire")) == expected
    assert {r["statut"]: r["n"] for r in counts.for_commune(commune.pk)} == {Status.EN_ATTENTE: 1}


def test_the_retry_gives_up_after_the_attempts_and_leaves_nothing(commune, monkeypatch):
    ProcurationFactory(en_attente=True, reference="TAKEN0", mandant=ElecteurFactory(commune=commune))
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: "TAKEN0")
    p = _demande(commune)
    with pytest.raises(IntegrityError):
        p.deposer(by=UserFactory(), attempts=3)
    assert Procuration.objects.count() == 1 and p.pk is None and p.reference is None
    assert OutboxEmail.objects.count() == 0 and ProcurationEvent.objects.count() == 0


def test_another_integrity_error_is_not_retried(commune, monkeypatch):
    draws = []
    monkeypatch.setattr(procuration_module, "generate_reference", lambda: draws.append(1) or f"ONE{len(draws):03d}")
    electeur = ElecteurFactory(commune=commune)
    p = ProcurationFactory.build(mandant=electeur, mandataire=electeur, scrutin=ScrutinFactory())  # the constraint
    with pytest.raises(IntegrityError):
        p.deposer(by=UserFactory())
    assert len(draws) == 1 and Procuration.objects.count() == 0 and p.pk is None


def test_a_refused_demande_leaves_nothing(commune):
    electeur = ElecteurFactory(commune=commune)
    scrutin = ScrutinFactory()
    ProcurationFactory(en_attente=True, mandant=electeur, scrutin=scrutin)
    p = ProcurationFactory.build(mandant=electeur, mandataire=ElecteurFactory(commune=commune), scrutin=scrutin)
    with pytest.raises(DomainError) as refused:
        p.deposer(by=UserFactory())
    assert refused.value.code == "doublon"
    assert Procuration.objects.count() == 1 and p.pk is None and p.reference is None and p._state.adding
    assert ProcurationEvent.objects.count() == 0 and OutboxEmail.objects.count() == 0


def test_deposer_only_for_a_new_row_and_the_shortcuts_refused_where_they_do_not_hold(commune):
    saved = ProcurationFactory(mandant=ElecteurFactory(commune=commune))
    with pytest.raises(TransitionError):
        saved.deposer(by=None)
    # inserted: a row inserted in the current transaction only (never in autocommit, never unsaved).
    with pytest.raises(TransactionManagementError):
        _demande(commune).soumettre(_inserted=True)
    with pytest.raises(TransactionManagementError):
        ProcurationEvent.append(saved, from_status=Status.BROUILLON, to_status=Status.EN_ATTENTE, first=True)


@pytest.mark.django_db(transaction=True)
def test_inserted_refused_outside_a_transaction(commune):
    saved = ProcurationFactory(mandant=ElecteurFactory(commune=commune))
    assert not connection.in_atomic_block
    with pytest.raises(TransactionManagementError):
        saved.soumettre(_inserted=True)
    with transaction.atomic():
        assert Procuration.objects.get(pk=saved.pk).status == Status.BROUILLON
