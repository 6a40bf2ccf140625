"""Random sequences of real transitions (hypothesis state machine) never break the invariants.

Each step's outcome is predicted from the law's table (tests/procuration/law.py, literals, never the
production tables): a move from an allowed status must succeed (or be refused by a named rule of
the demande), from any other it must raise TransitionError. And the run must make progress: every
move succeeds at least once, so that a move that always refuses fails the test."""

import datetime
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from procuration.exceptions import DomainError, TransitionError
from procuration.models import (
    Electeur,
    IdentiteVerifiee,
    InvalidationMotif,
    OutboxEmail,
    Procuration,
    ProcurationEvent,
    RefusMotif,
    Status,
    Verificateur,
    purge_mode,
)
from procuration.registry import radier_electeur
from tests.factories import CommuneFactory, ElecteurFactory, ScrutinFactory, UserFactory
from tests.procuration.law import (
    LAW,
    MANDANT_STATUSES,
    PLAFOND_FRANCE,
    PLAFOND_STATUSES,
    PLAFOND_TOTAL,
    RESILIATION_NEEDS_IDENTITY,
)

N_ELECTEURS = 7
MANDATAIRES = 2  # electors 0 and 1 are the popular mandataires, so that the plafond gets tested
# The moves a rule of the demande may refuse from an allowed status (plafond, doublon, dates...).
RULE_CHECKED = {"soumettre", "valider_autorite", "resilier"}
EMAILING = {"soumettre", "valider_autorite", "refuser_autorite", "valider_mairie", "invalider_mairie", "resilier",
            "expirer"}


def over_the_plafond(p) -> bool:
    """L.73, from the law's numbers: established now (in France: every authority of this machine is in
    France), p is void when its mandataire already holds the maximum of established procurations on
    overlapping dates (all of them are earlier)."""
    held = [o for o in Procuration.objects.filter(mandataire_id=p.mandataire_id, status__in=PLAFOND_STATUSES)
            if o.pk != p.pk and o.valid_from <= p.valid_until and o.valid_until >= p.valid_from]
    return len(held) >= PLAFOND_TOTAL or sum(o.etablissement == "france" for o in held) >= PLAFOND_FRANCE


def check_invariants(expected_emails: int) -> None:
    rows = list(Procuration.objects.all())
    # Reference present iff not brouillon, and unique.
    refs = [p.reference for p in rows if p.reference]
    assert len(refs) == len(set(refs))
    for p in rows:
        assert (p.reference is not None) == (p.status != Status.BROUILLON), p
    # Plafond L.73: on every day, a mandataire holds at most 2 binding procurations, at most 1 in France.
    by_mandataire = defaultdict(list)
    for p in rows:
        if p.status in PLAFOND_STATUSES:
            by_mandataire[p.mandataire_id].append(p)
    for held in by_mandataire.values():
        for day in {p.valid_from for p in held} | {p.valid_until for p in held}:
            covering = [p for p in held if p.valid_from <= day <= p.valid_until]
            assert len(covering) <= 2, covering
            assert sum(p.etablissement == "france" for p in covering) <= 1, covering
    # At most one procuration binding the mandant on any day.
    by_mandant = defaultdict(list)
    for p in rows:
        if p.status in MANDANT_STATUSES:
            by_mandant[p.mandant_id].append(p)
    for held in by_mandant.values():
        for a in held:
            for b in held:
                if a.pk < b.pk:
                    assert a.valid_until < b.valid_from or b.valid_until < a.valid_from, (a, b)
    # The transition log explains the current status: a chain from brouillon to the status.
    events = defaultdict(list)
    for e in ProcurationEvent.objects.order_by("at", "pk"):
        events[e.procuration_id].append(e)
    for p in rows:
        chain = events[p.pk]
        state = Status.BROUILLON
        for e in chain:
            assert e.from_status == state
            state = e.to_status
        assert state == p.status
    # One outbox message per e-mailing transition that happened.
    assert OutboxEmail.objects.count() == expected_emails


@pytest.mark.django_db
def test_random_transition_sequences_keep_the_invariants():
    commune = CommuneFactory()
    electeurs = [ElecteurFactory(commune=commune) for _ in range(N_ELECTEURS)]
    scrutins = [ScrutinFactory(), ScrutinFactory()]  # same dates: overlapping on purpose
    officer = UserFactory(username="opj-sm", policier=True)
    agent = UserFactory(username="agent-sm", agent_mairie=True, commune=commune)
    today = timezone.localdate()
    succeeded = Counter()

    class ProcurationMachine(RuleBasedStateMachine):
        procurations = Bundle("procurations")

        @initialize()
        def reset(self):
            Electeur.objects.filter(pk__in=[e.pk for e in electeurs]).update(inscrit=True, deces=False)
            self.radiated = False
            OutboxEmail.objects.all().delete()
            with transaction.atomic(), purge_mode():  # between examples the log is wiped, as a purge would
                ProcurationEvent.objects.all().delete()
                Procuration.objects.all().delete()
            self.emails = 0

        def _do(self, pk, name, **kwargs):
            p = Procuration.objects.get(pk=pk)
            before = p.status
            sources, target = LAW[name]
            if name == "valider_autorite" and before in sources and over_the_plafond(p):
                target = LAW["annuler"][1]  # L.73: established over the plafond, void at once
            try:
                done = getattr(p, name)(**kwargs)
            except TransitionError as exc:
                assert before not in sources and before != target, f"{name} from {before} refused: {exc}"
                assert Procuration.objects.get(pk=pk).status == before
                return
            except DomainError as exc:
                assert exc.message  # a French message for the user
                assert name in RULE_CHECKED and before in sources, f"{name} from {before}: {exc}"
                if name == "resilier":  # L.75: only an unverified résiliation of an established one
                    assert before in RESILIATION_NEEDS_IDENTITY and kwargs.get("identite") is None, exc
                assert Procuration.objects.get(pk=pk).status == before
                return
            after = Procuration.objects.get(pk=pk).status
            if before in sources:
                assert (done, after) == (True, target), f"{name} from {before}: {done}, {after}"
                succeeded[name] += 1
                if target == LAW["annuler"][1] and name != "annuler":
                    succeeded["annuler"] += 1
            else:
                assert before == target, f"{name} from {before} should have raised, gave {done}, {after}"
                assert (done, after) == (False, before)
            if done and name in EMAILING:
                self.emails += 1
            if done and name == "resilier" and before in RESILIATION_NEEDS_IDENTITY:
                self.emails += 1  # and the mairie, which had it on its registre

        @rule(
            target=procurations,
            mandant=st.integers(MANDATAIRES, N_ELECTEURS - 1),
            mandataire=st.integers(0, MANDATAIRES - 1),
            choice=st.sampled_from(["s0-both", "s0-t1", "s0-t2", "s1-both", "duree"]),
            etablissement=st.sampled_from(["france", "etranger"]),
            submit=st.booleans(),
        )
        def create(self, mandant, mandataire, choice, etablissement, submit):
            kwargs = {}
            if choice == "duree":
                kwargs = {"portee": "duree", "scrutin": None,
                          "valid_from": today + datetime.timedelta(days=30),
                          "valid_until": today + datetime.timedelta(days=60)}
            else:
                s, tours = choice.split("-")
                scrutin = scrutins[int(s[1])]
                kwargs = {"portee": "scrutin", "scrutin": scrutin, "tour1": tours in ("both", "t1"),
                          "tour2": tours in ("both", "t2"), "valid_from": scrutin.date_tour1,
                          "valid_until": scrutin.date_tour2}
            p = Procuration.objects.create(
                mandant=electeurs[mandant], mandataire=electeurs[mandataire], commune=commune,
                email_contact="m@example.fr", etablissement=etablissement, **kwargs,
            )
            if submit:
                self._do(p.pk, "soumettre")
            return p.pk

        @rule(pk=procurations)
        def soumettre(self, pk):
            self._do(pk, "soumettre")

        @rule(pk=procurations, france_identite=st.booleans())
        def valider_autorite(self, pk, france_identite):
            self._do(pk, "valider_autorite", by=None if france_identite else officer, france_identite=france_identite)

        @rule(pk=procurations, decision=st.sampled_from(["valider_mairie", "invalider_mairie"]))
        def mairie(self, pk, decision):
            if decision == "valider_mairie":
                self._do(pk, decision, by=agent)
            else:
                self._do(pk, decision, by=agent, motif=InvalidationMotif.PLAFOND_ATTEINT)

        @rule(pk=procurations, name=st.sampled_from(["refuser_autorite", "resilier", "expirer", "echoir"]))
        def end(self, pk, name):
            if name == "refuser_autorite":
                self._do(pk, name, by=officer, motif=RefusMotif.IDENTITE_NON_CONFORME)
            else:
                self._do(pk, name)

        @rule(pk=procurations, au_guichet=st.booleans())
        def resiliation(self, pk, au_guichet):
            """L.75: online without an identity check, a request that leaves the status as it is; at
            the counter, with the identity checked, the résiliation takes effect."""
            if au_guichet:
                self._do(pk, "resilier", by=officer,
                         identite=IdentiteVerifiee(Verificateur.AUTORITE, by=officer, piece_type="cni"))
                return
            p = Procuration.objects.get(pk=pk)
            before, asked = p.status, p.resiliation_demandee_at
            try:
                done = p.demander_resiliation()
            except TransitionError:
                assert before not in RESILIATION_NEEDS_IDENTITY
                return
            p.refresh_from_db()
            assert before in RESILIATION_NEEDS_IDENTITY and p.status == before
            assert done == (asked is None) and p.resiliation_demandee_at is not None
            if done:
                succeeded["demander_resiliation"] += 1

        @precondition(lambda self: not self.radiated)  # once an example: the others go on with the living
        @rule(who=st.integers(0, N_ELECTEURS - 1), motif=st.sampled_from(["deces", "radiation"]))
        def radiation(self, who, motif):
            """An event of the register: the elector's procurations pending or in force, as mandataire
            or as mandant, are void; the mandants are told (not a deceased one), the mairie too when it
            had recorded one."""
            self.radiated = True
            e = electeurs[who]
            sources, target = LAW["annuler"]
            before = {p.pk: (p.status, p.mandataire_id == e.pk)
                      for p in Procuration.objects.filter(Q(mandataire=e) | Q(mandant=e))}
            radier_electeur(e, motif)
            for pk, (status, as_mandataire) in before.items():
                after = Procuration.objects.get(pk=pk).status
                assert after == (target if status in sources else status), (status, after)
                if status in sources:
                    succeeded["annuler"] += 1
                    self.emails += (as_mandataire or motif != "deces") + (status == "validee_mairie")
            # The harness gives the elector back to the lists (a re-registration, or another person with
            # the same row), so that the rest of the example still exercises the other moves.
            Electeur.objects.filter(pk=e.pk).update(inscrit=True, deces=False)

        @invariant()
        def invariants_hold(self):
            check_invariants(self.emails)

    run_state_machine_as_test(
        ProcurationMachine,
        settings=settings(
            # derandomize: the same sequences on every run, so that the progress check below
            # cannot fail by chance (the expected outcome of each step is checked either way).
            max_examples=40, stateful_step_count=40, deadline=None, database=None, derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # Progress: over the run, every move of the table went through at least once.
    assert {name for name in [*LAW, "demander_resiliation"] if succeeded[name] == 0} == set(), succeeded
