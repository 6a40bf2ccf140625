"""Which procurations count: for the plafond (L.73) and for « one procuration per tour » of a mandant.

The statuses that count are the literals of tests/procuration/law.py, never the production sets: a
status dropped from (or added to) the code's ACTIVE_FOR_PLAFOND / ACTIVE_FOR_MANDANT fails here,
on every path that applies the rule (submission, the counter's validation, the mairie's queue, checks.evaluate_page)."""

import datetime

import pytest

from procuration import checks
from procuration.exceptions import DomainError
from procuration.models import IdentiteVerifiee, Procuration, Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory
from tests.procuration.law import MANDANT_STATUSES, PLAFOND_STATUSES, STATUSES


def held(status: str, **kwargs) -> Procuration:
    """A procuration already in `status` (built directly: reaching it is tested elsewhere)."""
    if status == "brouillon":
        return ProcurationFactory(**kwargs)
    return ProcurationFactory(en_attente=True, status=status, **kwargs)


@pytest.fixture
def officer(db):
    return UserFactory(username="opj-law", policier=True)


@pytest.fixture
def consul(db):
    """An authority abroad: what it validates is established abroad."""
    return UserFactory(username="consul-law", policier=True, unite_a_l_etranger=True)


@pytest.fixture
def world(commune):
    return {"commune": commune, "scrutin": ScrutinFactory(), "mandataire": ElecteurFactory(commune=commune)}


def for_mandataire(world, etablissement, **kwargs):
    return dict(mandant=ElecteurFactory(commune=world["commune"]), mandataire=world["mandataire"],
                scrutin=world["scrutin"], etablissement=etablissement, **kwargs)


def queue_verdict(p: Procuration, code: str) -> bool:
    rows = Procuration.objects.filter(pk=p.pk).select_related(*checks.RELATED)
    return next(r.ok for r in checks.evaluate_page(rows)[p.pk].results if r.code == code)


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_plafond_counts_exactly_the_established_procurations(world, officer, status):
    """The mandataire holds one procuration established in France, in `status`; a second one in
    France is refused at submission, flagged in the mairie's queue and, established at the counter,
    void (L.73: the earliest stands) iff it counts."""
    held(status, **for_mandataire(world, "france"))
    counts = status in PLAFOND_STATUSES

    demande = ProcurationFactory(**for_mandataire(world, "france"))
    if counts:
        with pytest.raises(DomainError) as excinfo:
            demande.soumettre()
        assert excinfo.value.code == "plafond"
        demande.refresh_from_db()
        assert demande.status == Status.BROUILLON
    else:
        assert demande.soumettre() is True

    pending = ProcurationFactory(en_attente=True, **for_mandataire(world, "france"))
    assert queue_verdict(pending, "plafond") is not counts
    assert pending.valider_autorite(by=officer, piece_type="cni") is True
    pending.refresh_from_db()
    assert pending.status == ("annulee" if counts else "validee_autorite")


def test_plafond_with_mixed_statuses_and_mairie_validated_procurations(world, officer, consul):
    """Only what an authority established counts, mairie-validated included; what was refused,
    voided, revoked, expired or is still pending does not."""
    first = held("validee_mairie", **for_mandataire(world, "france"))
    for status in ("refusee_autorite", "invalidee_mairie", "resiliee", "expiree", "echue", "en_attente"):
        held(status, **for_mandataire(world, "france"))
        held(status, **for_mandataire(world, "etranger"))

    # Only one established in France: the mairie-validated one fills it; a second one there is void.
    france = ProcurationFactory(en_attente=True, **for_mandataire(world, "france"))
    assert france.valider_autorite(by=officer, piece_type="cni") is True
    france.refresh_from_db()
    assert france.status == "annulee"
    # One abroad may join it: two in all.
    abroad = ProcurationFactory(en_attente=True, **for_mandataire(world, "etranger"))
    assert abroad.valider_autorite(by=consul, piece_type="passeport") is True
    abroad.valider_mairie(by=UserFactory(username="agent-law", agent_mairie=True, commune=world["commune"]))
    # A third, even abroad, is one too many: both that stand are mairie-validated.
    third = ProcurationFactory(en_attente=True, **for_mandataire(world, "etranger"))
    assert queue_verdict(third, "plafond") is False
    assert third.valider_autorite(by=consul, piece_type="passeport") is True
    third.refresh_from_db()
    assert third.status == "annulee"
    # The mandant of the first revokes it: the place in France is free again (void ones take none).
    first.resilier(reason="Je voterai moi-même", identite=IdentiteVerifiee.france_identite(first.mandant))
    again = ProcurationFactory(en_attente=True, **for_mandataire(world, "france"))
    assert again.valider_autorite(by=officer, piece_type="cni") is True
    standing = Procuration.objects.filter(mandataire=world["mandataire"], status__in=PLAFOND_STATUSES)
    assert sorted(standing.values_list("pk", flat=True)) == sorted([again.pk, abroad.pk])


def test_plafond_counts_only_overlapping_dates(world, officer):
    """A mairie-validated procuration for another scrutin, on other dates, does not count."""
    other = ScrutinFactory(date_tour1=world["scrutin"].date_tour2 + datetime.timedelta(days=7),
                           date_tour2=world["scrutin"].date_tour2 + datetime.timedelta(days=14))
    held("validee_mairie", **for_mandataire(world, "france") | {"scrutin": other})
    pending = ProcurationFactory(en_attente=True, **for_mandataire(world, "france"))
    assert pending.valider_autorite(by=officer, piece_type="cni") is True


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_one_procuration_per_tour_counts_exactly_the_binding_statuses(commune, status):
    """The mandant already has a procuration for the same tours, in `status`: a second demande
    is refused iff that one binds the mandant."""
    scrutin = ScrutinFactory()
    mandant = ElecteurFactory(commune=commune)
    earlier = held(status, mandant=mandant, scrutin=scrutin)
    binds = status in MANDANT_STATUSES

    demande = ProcurationFactory(mandant=mandant, scrutin=scrutin)
    assert queue_verdict(demande, "doublon") is not binds
    if binds:
        with pytest.raises(DomainError) as excinfo:
            demande.soumettre()
        assert excinfo.value.code == "doublon"
        assert earlier.reference in excinfo.value.message
        demande.refresh_from_db()
        assert demande.status == Status.BROUILLON
    else:
        assert demande.soumettre() is True


def test_one_procuration_per_tour_allows_another_tour(commune):
    """A different mandataire per tour is allowed: a 1st-tour procuration does not bind the 2nd."""
    scrutin = ScrutinFactory()
    mandant = ElecteurFactory(commune=commune)
    held("validee_mairie", mandant=mandant, scrutin=scrutin, tour1=True, tour2=False,
         valid_from=scrutin.date_tour1, valid_until=scrutin.date_tour1)
    second = ProcurationFactory(mandant=mandant, scrutin=scrutin, tour1=False, tour2=True)
    assert second.soumettre() is True
    second.refresh_from_db()
    assert (second.valid_from, second.valid_until) == (scrutin.date_tour2, scrutin.date_tour2)
