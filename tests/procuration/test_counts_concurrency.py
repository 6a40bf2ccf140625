"""The kept figures (procuration.counts) under real concurrency on PostgreSQL: transitions of one
commune at the same moment, with compactions running meanwhile, lose no count and never deadlock;
one transition does not wait for another's transaction (the change rows are INSERTs, no shared
counter row is locked)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from procuration import counts
from procuration.models import Procuration, Status
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory
from tests.procuration.test_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def figures(commune) -> Counter:
    return Counter({(r["scrutin_id"], r["statut"]): r["n"] for r in counts.for_commune(commune.pk)})


def oracle(commune) -> Counter:
    qs = Procuration.objects.filter(commune=commune).exclude(status=Status.BROUILLON)
    return Counter({(r["scrutin_id"], r["statut"]): r["n"] for r in qs.counts_by_statut_effectif("scrutin_id")})


def _demandes(n):
    commune, scrutin = CommuneFactory(), ScrutinFactory()
    demandes = [ProcurationFactory(en_attente=True, commune=commune, scrutin=scrutin,
                                   mandant=ElecteurFactory(commune=commune), mandataire=ElecteurFactory(commune=commune))
                for _ in range(n)]
    officers = [UserFactory(username=f"opj-counts-{i}", policier=True) for i in range(n)]
    return commune, scrutin, demandes, officers


def test_simultaneous_transitions_of_one_commune_lose_no_count():
    assert connection.vendor == "postgresql"
    commune, scrutin, demandes, officers = _demandes(8)

    def validate(pk, officer):
        return lambda: Procuration.objects.get(pk=pk).valider_autorite(by=officer, piece_type="cni")

    # Eight validations and two compactions released at once.
    results = run_together([validate(p.pk, o) for p, o in zip(demandes, officers)] + [counts.compact] * 2)

    assert [r[0] for r in results] == ["ok"] * 10, results  # no deadlock, no error
    assert [r[1] for r in results[:8]] == [True] * 8
    assert figures(commune) == oracle(commune) == Counter({(scrutin.pk, Status.VALIDEE_AUTORITE): 8})
    counts.compact()
    assert figures(commune) == oracle(commune)


def test_a_transition_does_not_wait_for_another_of_the_same_commune():
    """A's transition is done but its transaction still open; B's, of the same commune and scrutin,
    commits meanwhile (with a counter row locked by A, B would wait for A's commit: A would never
    see B done). Then both counts are there."""
    commune, scrutin, (a, b), (officer_a, officer_b) = _demandes(2)
    b_done = threading.Event()
    seen = []

    def first():
        try:
            with transaction.atomic():
                Procuration.objects.get(pk=a.pk).valider_autorite(by=officer_a, piece_type="cni")
                threading.Thread(target=second).start()
                seen.append(b_done.wait(timeout=60))  # not a time limit: B blocked would never set it
        finally:
            connections.close_all()

    def second():
        try:
            Procuration.objects.get(pk=b.pk).valider_autorite(by=officer_b, piece_type="cni")
            b_done.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    thread.join(timeout=120)
    assert seen == [True]
    b_done.wait(timeout=60)
    assert figures(commune) == oracle(commune) == Counter({(scrutin.pk, Status.VALIDEE_AUTORITE): 2})
