"""The plafond L.73 under real concurrency on PostgreSQL: 20 officers validate at the same moment; what
is established over the plafond is void (status « annulee »), the earliest stand."""

import threading

import pytest
from django.db import connection, connections

from procuration.exceptions import DomainError, TransitionError
from procuration.models import Procuration, Status
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(functions):
    """Run each function in its own thread (own DB connection), all released at once."""
    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def worker(i, fn):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", fn())
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_twenty_simultaneous_validations_for_one_mandataire_respect_the_plafond():
    assert connection.vendor == "postgresql"
    commune = CommuneFactory()
    scrutin = ScrutinFactory()
    mandataire = ElecteurFactory(commune=commune)
    # Odd ones at a consulate: what they validate is established abroad.
    officers = [UserFactory(username=f"opj-{i}", policier=True, unite_a_l_etranger=i % 2 == 1) for i in range(20)]
    procurations = [
        ProcurationFactory(
            en_attente=True, mandant=ElecteurFactory(commune=commune), mandataire=mandataire, scrutin=scrutin,
            etablissement="france" if i % 2 == 0 else "etranger",
        )
        for i in range(20)
    ]

    def validate(pk, officer):
        return lambda: Procuration.objects.get(pk=pk).valider_autorite(by=officer, piece_type="cni")

    results = run_together([validate(p.pk, o) for p, o in zip(procurations, officers)])

    # Every act is recorded (True); the validations are serialised on the mandataire's row.
    assert results == [("ok", True)] * 20, results
    # Exactly two stand, whatever the order: the first one takes a place, and among the 19 others (9 or
    # 10 of each kind) at least one can take the second (abroad after one in France; either after one
    # abroad). Never a third: the 18 others are void, each established when the earlier ones filled the plafond.
    standing = Procuration.objects.filter(mandataire=mandataire, status=Status.VALIDEE_AUTORITE)
    assert standing.count() == 2
    assert standing.filter(etablissement="france").count() <= 1
    void = Procuration.objects.filter(mandataire=mandataire, status=Status.ANNULEE, annulation_motif="plafond")
    assert void.count() == 18
    for v in void:
        earlier = [s for s in standing if s.autorite_at < v.autorite_at]
        assert len(earlier) == 2 or (v.etablissement == "france" and [s.etablissement for s in earlier] == ["france"])


def test_simultaneous_validations_against_a_mairie_validated_procuration():
    """The mandataire already holds a mairie-validated procuration in France: of 10 simultaneous
    validations (5 in France, 5 abroad), exactly one abroad stands, none in France."""
    commune = CommuneFactory()
    scrutin = ScrutinFactory()
    mandataire = ElecteurFactory(commune=commune)
    ProcurationFactory(validee_mairie=True, mandant=ElecteurFactory(commune=commune), mandataire=mandataire,
                       scrutin=scrutin, etablissement="france")
    officers = [UserFactory(username=f"opj-m{i}", policier=True, unite_a_l_etranger=i % 2 == 1) for i in range(10)]
    procurations = [
        ProcurationFactory(
            en_attente=True, mandant=ElecteurFactory(commune=commune), mandataire=mandataire, scrutin=scrutin,
            etablissement="france" if i % 2 == 0 else "etranger",
        )
        for i in range(10)
    ]

    def validate(pk, officer):
        return lambda: Procuration.objects.get(pk=pk).valider_autorite(by=officer, piece_type="cni")

    results = run_together([validate(p.pk, o) for p, o in zip(procurations, officers)])
    assert results == [("ok", True)] * 10, results
    standing = Procuration.objects.filter(mandataire=mandataire, status=Status.VALIDEE_AUTORITE)
    assert list(standing.values_list("etablissement", flat=True)) == ["etranger"]
    assert Procuration.objects.filter(mandataire=mandataire, status=Status.ANNULEE).count() == 9


def test_two_officers_validating_the_same_procuration():
    p = ProcurationFactory(en_attente=True)
    officers = [UserFactory(username="opj-a", policier=True), UserFactory(username="opj-b", policier=True)]

    def validate(officer):
        return lambda: Procuration.objects.get(pk=p.pk).valider_autorite(by=officer, piece_type="cni")

    results = run_together([validate(o) for o in officers])
    outcomes = sorted(
        "true" if r == ("ok", True) else "false" if r == ("ok", False)
        else "transition" if isinstance(r[1], TransitionError) else repr(r)
        for r in results
    )
    assert outcomes[1] == "true" and outcomes[0] in ("false", "transition"), outcomes
    p.refresh_from_db()
    assert p.status == Status.VALIDEE_AUTORITE
    assert p.events.count() == 1
    assert p.emails.count() == 1


def test_concurrent_submissions_of_the_same_mandant_keep_one():
    """Two tabs submitting for the same scrutin: the mandant row lock lets only one through."""
    commune = CommuneFactory()
    scrutin = ScrutinFactory()
    mandant = ElecteurFactory(commune=commune)
    drafts = [ProcurationFactory(mandant=mandant, scrutin=scrutin) for _ in range(6)]

    def submit(pk):
        return lambda: Procuration.objects.get(pk=pk).soumettre()

    results = run_together([submit(d.pk) for d in drafts])
    assert [r[0] for r in results].count("ok") == 1
    assert all(isinstance(r[1], DomainError) and r[1].code == "doublon" for r in results if r[0] == "error")
    assert Procuration.objects.filter(mandant=mandant, status=Status.EN_ATTENTE).count() == 1
