"""Where a procuration is established is a fact recorded by the authority that checks the identity
(a consulate: abroad; a commissariat, a brigade, a tribunal: France; France Identité: the elector's
list), never the mandant's own answer. The durée allowed (1 year in France, 3 abroad) and the plafond
of L.73 (at most one established in France) follow that fact, re-checked at validation."""

import datetime

import pytest
from django.utils import timezone

from procuration.exceptions import DomainError
from procuration.models import Status
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commissariat():
    return UserFactory(username="opj-fr", policier=True)


@pytest.fixture
def consulat():
    return UserFactory(username="agent-consulat", policier=True, unite="Consulat général à Montréal",
                       unite_a_l_etranger=True)


def duree(years_days: int, etablissement: str, **kwargs):
    start = timezone.localdate() + datetime.timedelta(days=10)
    return ProcurationFactory(en_attente=True, portee="duree", scrutin=None, valid_from=start,
                              valid_until=start + datetime.timedelta(days=years_days), etablissement=etablissement,
                              **kwargs)


def test_answered_abroad_but_validated_in_a_commissariat_in_france_is_established_in_france(commissariat):
    p = ProcurationFactory(en_attente=True, etablissement="etranger")
    assert p.valider_autorite(by=commissariat, piece_type="cni")
    p.refresh_from_db()
    assert p.etablissement == "france"


def test_validated_by_a_consulate_is_established_abroad(consulat):
    p = ProcurationFactory(en_attente=True, etablissement="france")
    assert p.valider_autorite(by=consulat, piece_type="passeport")
    p.refresh_from_db()
    assert p.etablissement == "etranger"


def test_three_years_asked_from_abroad_but_validated_in_france_are_refused(commissariat, consulat):
    """A mandant who answered « à l'étranger » does not keep 3 years when validated in France."""
    p = duree(2 * 365, "etranger")
    with pytest.raises(DomainError) as excinfo:
        p.valider_autorite(by=commissariat, piece_type="cni")
    assert excinfo.value.code == "duree" and "au plus un an" in excinfo.value.message
    p.refresh_from_db()
    assert (p.status, p.etablissement) == (Status.EN_ATTENTE, "etranger")
    assert p.valider_autorite(by=consulat, piece_type="passeport")  # at the consulate: 3 years hold


def test_answered_abroad_does_not_escape_the_one_in_france_plafond(commissariat):
    mandataire = ElecteurFactory()
    scrutin = ScrutinFactory()
    ProcurationFactory(validee_mairie=True, mandataire=mandataire, scrutin=scrutin, etablissement="france")
    second = ProcurationFactory(en_attente=True, mandataire=mandataire, scrutin=scrutin, etablissement="etranger")
    assert second.valider_autorite(by=commissariat, piece_type="cni")
    second.refresh_from_db()  # established in France, a second one there: void (L.73)
    assert (second.etablissement, second.status, second.annulation_motif) == ("france", "annulee", "plafond")


def test_france_identite_follows_the_register_not_the_answer():
    p = ProcurationFactory(en_attente=True, etablissement="etranger")
    assert p.valider_autorite(france_identite=True)
    p.refresh_from_db()
    assert p.etablissement == "france"  # the mandant is on their commune's list, not a consular one
