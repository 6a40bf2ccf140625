"""The figures kept per commune, scrutin and status (procuration.counts) always equal the aggregate over
the procurations (ProcurationQuerySet.counts_by_statut_effectif, the oracle): after any sequence of
creations, transitions of TRANSITIONS, purges, expiries by date and compactions (a hypothesis state
machine), and whatever the rebuild starts from."""

import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from procuration import counts
from procuration.audit import purge_dossiers
from procuration.exceptions import DomainError, TransitionError
from procuration.models import (
    AnnulationMotif,
    IdentiteVerifiee,
    InvalidationMotif,
    Procuration,
    ProcurationCount,
    ProcurationEvent,
    RefusMotif,
    Status,
    Verificateur,
    purge_mode,
)
from procuration.models.procuration import TRANSITIONS
from procuration.tasks import compact_procuration_counts
from tests.factories import CommuneFactory, ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory


def oracle(commune=None) -> Counter:
    """{(scrutin_id, effective status): n} by the aggregate over the rows (what the mairie sees for a
    commune: no brouillon; nationally, everything)."""
    qs = Procuration.objects.all()
    if commune is not None:
        qs = qs.filter(commune=commune).exclude(status=Status.BROUILLON)
    return Counter({(r["scrutin_id"], r["statut"]): r["n"] for r in qs.counts_by_statut_effectif("scrutin_id")})


def read(commune=None) -> Counter:
    rows = counts.national() if commune is None else counts.for_commune(commune.pk)
    figures = Counter()
    for r in rows:
        assert r["n"] > 0, r
        assert (r["scrutin_id"], r["statut"]) not in figures, r  # one row per key
        figures[(r["scrutin_id"], r["statut"])] = r["n"]
    return figures


def _kwargs(name, officer, agent):
    identite = IdentiteVerifiee(Verificateur.AUTORITE, by=officer, piece_type="cni")
    return {
        "soumettre": {},
        "valider_autorite": {"by": officer, "piece_type": "cni"},
        "refuser_autorite": {"by": officer, "motif": RefusMotif.IDENTITE_NON_CONFORME},
        "valider_mairie": {"by": agent, "forcer": True, "motif_forcage": "Vérifié au téléphone"},
        "invalider_mairie": {"by": agent, "motif": InvalidationMotif.PLAFOND_ATTEINT},
        "resilier": {"by": officer, "identite": identite},
        "expirer": {},
        "echoir": {},
        "annuler": {"motif": AnnulationMotif.DECES_MANDANT},
    }[name]


def changes_machine(communes, scrutins, officer, agent, *, communes_drawn=(0, 1), moved=None):
    """A hypothesis state machine of procurations changing as in production, for the tests of what is
    kept about them (the counts here, the queue's total in tests/mairie/test_queue_counts.py): they
    subclass it with their invariants. Procurations are created in `communes` (indexes drawn from
    `communes_drawn`) and `scrutins`, moved by the transitions their status allows (`moved` counts
    those that happened), by any transition (mostly refused), aged past their last day, purged."""
    moved = Counter() if moved is None else moved
    today = timezone.localdate()

    class Changes(RuleBasedStateMachine):
        procurations = Bundle("procurations")

        @initialize()
        def reset(self):
            with transaction.atomic(), purge_mode():
                ProcurationEvent.objects.all().delete()
                Procuration.objects.all().delete()
                ProcurationCount.objects.all().delete()

        @rule(target=procurations, commune=st.sampled_from(communes_drawn), scrutin=st.sampled_from([0, 1, None]),
              state=st.sampled_from(["brouillon", "en_attente", "validee_autorite", "validee_mairie"]),
              moves=st.integers(0, 3), data=st.data())
        def create(self, commune, scrutin, state, moves, data):
            """A brouillon as the forms create it, or a row inserted in its state (factory); then up to
            three moves its status allows."""
            c = communes[commune]
            kwargs = {"commune": c, "mandant": ElecteurFactory(commune=c), "mandataire": ElecteurFactory(commune=c)}
            if scrutin is None:
                kwargs.update(portee="duree", scrutin=None, tour1=False, tour2=False,
                              valid_from=today + datetime.timedelta(days=30),
                              valid_until=today + datetime.timedelta(days=60))
            else:
                kwargs["scrutin"] = scrutins[scrutin]
            if state != "brouillon":
                kwargs[state] = True
            pk = ProcurationFactory(**kwargs).pk
            for _ in range(moves):
                self.advance(pk, data)
            return pk

        @rule(pk=procurations, data=st.data())
        def advance(self, pk, data):
            """A move its status allows (the random `transition` mostly meets refusals)."""
            p = Procuration.objects.filter(pk=pk).first()
            if p is None:
                return
            allowed = sorted(n for n, (sources, _) in TRANSITIONS.items()
                             if (p.status if n == "expirer" else p.statut_effectif) in sources)
            if allowed:
                self.transition(pk, data.draw(st.sampled_from(allowed)))

        @rule(pk=procurations, name=st.sampled_from(sorted(TRANSITIONS)))
        def transition(self, pk, name):
            p = Procuration.objects.filter(pk=pk).first()
            if p is None:
                return
            try:
                if getattr(p, name)(**_kwargs(name, officer, agent)):
                    moved[name] += 1
            except (TransitionError, DomainError):
                pass

        @rule(pk=procurations, days=st.sampled_from([1, 59, 62, 70, 400]))
        def age(self, pk, days):
            """Submitted `days` ago: past two months, a demande « en attente » is expirée at read time
            (still « en attente » in the table and in the stored counts)."""
            Procuration.objects.filter(pk=pk, submitted_at__isnull=False).update(
                submitted_at=timezone.now() - datetime.timedelta(days=days))

        @rule(pk=procurations)
        def purge(self, pk):
            purge_dossiers(Procuration.objects.filter(pk=pk))

    return Changes


@pytest.mark.django_db
def test_the_figures_equal_the_aggregate_after_any_sequence_of_changes():
    communes = [CommuneFactory(), CommuneFactory()]
    scrutins = [ScrutinFactory(), ScrutinFactory()]
    officer = UserFactory(username="opj-counts", policier=True)
    agent = UserFactory(username="agent-counts", agent_mairie=True, commune=communes[0])
    moved = Counter()

    class Figures(changes_machine(communes, scrutins, officer, agent, moved=moved)):
        @rule()
        def compact(self):
            before = read()
            counts.compact()
            assert read() == before
            keys = Counter(ProcurationCount.objects.values_list("commune_id", "scrutin_id", "status"))
            assert set(keys.values()) <= {1}, keys  # one row per key left
            assert not ProcurationCount.objects.filter(n=0).exists()

        @invariant()
        def figures_equal_the_aggregate(self):
            for c in communes:
                assert read(c) == oracle(c)
            assert read() == oracle()

    run_state_machine_as_test(Figures, settings=settings(
        max_examples=30, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same walks every run: the coverage check below cannot flake
    ))
    # The run did exercise the transitions (those a random walk reaches from the states created).
    assert {"soumettre", "valider_autorite", "valider_mairie", "resilier", "annuler"} <= set(moved), moved


@pytest.mark.django_db
def test_compaction_folds_each_key_into_one_row_and_keeps_the_sums(agent_mairie, commune):
    scrutin = ScrutinFactory()
    officer = UserFactory(username="opj-compact", policier=True)
    demandes = [ProcurationFactory(en_attente=True, commune=commune, scrutin=scrutin,
                                   mandant=ElecteurFactory(commune=commune)) for _ in range(4)]
    for p in demandes[:3]:
        p.valider_autorite(by=officer, piece_type="cni")
    demandes[0].valider_mairie(by=agent_mairie, forcer=True, motif_forcage="Vérifié")
    before = read(commune)
    assert before == oracle(commune) == Counter({(scrutin.pk, Status.EN_ATTENTE): 1,
                                                 (scrutin.pk, Status.VALIDEE_AUTORITE): 2,
                                                 (scrutin.pk, Status.VALIDEE_MAIRIE): 1})
    assert ProcurationCount.objects.count() == 4 + 2 * 3 + 2  # 4 created, 3 then 1 moves of 2 rows

    assert compact_procuration_counts() == 12 - 3  # the beat task
    assert read(commune) == before
    assert sorted(ProcurationCount.objects.values_list("status", "n")) == [
        (Status.EN_ATTENTE, 1), (Status.VALIDEE_AUTORITE, 2), (Status.VALIDEE_MAIRIE, 1)]
    assert counts.compact() == 0  # nothing left to fold


def test_the_compaction_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["compact-procuration-counts"]
    assert entry["task"] == compact_procuration_counts.name


@pytest.mark.django_db
def test_the_rebuild_recomputes_every_count_from_the_procurations(commune, other_commune):
    """After a load that bypasses the transitions (COPY, here a raw update), the command puts the
    figures right."""
    scrutin = ScrutinFactory()
    for c in (commune, other_commune):
        for state in ("en_attente", "validee_autorite", "validee_mairie"):
            ProcurationFactory(commune=c, scrutin=scrutin, mandant=ElecteurFactory(commune=c), **{state: True})
    Procuration.objects.filter(commune=commune, status=Status.EN_ATTENTE).update(
        status=Status.VALIDEE_MAIRIE)  # bypasses the counts
    ProcurationCount.objects.create(commune=other_commune, status=Status.ECHUE, n=5)  # noise
    assert read(commune) != oracle(commune)

    call_command("rebuild_procuration_counts", stdout=open("/dev/null", "w"))  # noqa: SIM115

    for c in (commune, other_commune):
        assert read(c) == oracle(c)
    assert read() == oracle()
    assert ProcurationCount.objects.count() == 2 + 3  # one row per key

