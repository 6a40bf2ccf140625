"""Procuration.portee_label: what the pages, the PDF and the e-mails say a procuration is for."""

import datetime

import pytest

from procuration.models import Portee, Procuration, ScrutinType
from tests.factories import ProcurationFactory, ScrutinFactory

LEGISLATIVES = "Élections législatives 2027"


@pytest.fixture
def legislatives(db):
    return ScrutinFactory(type=ScrutinType.LEGISLATIVES, libelle=LEGISLATIVES,
                          date_tour1=datetime.date(2027, 6, 13), date_tour2=datetime.date(2027, 6, 20))


@pytest.mark.parametrize(
    ("tour1", "tour2", "label"),
    [
        (True, False, "Élections législatives 2027 — 1er tour (13/06/2027)"),
        (False, True, "Élections législatives 2027 — 2nd tour (20/06/2027)"),
        (True, True, "Élections législatives 2027 — 1er tour (13/06/2027) et 2nd tour (20/06/2027)"),
    ],
    ids=["1st-tour", "2nd-tour", "both-tours"],
)
def test_a_procuration_for_a_scrutin_names_it_and_the_tours_chosen(legislatives, tour1, tour2, label):
    """Built in memory (the model's default portée, the member Portee.SCRUTIN) or read back (a str)."""
    built = ProcurationFactory(scrutin=legislatives, tour1=tour1, tour2=tour2)
    assert isinstance(built.portee, Portee)
    assert built.portee_label == label
    assert Procuration.objects.get(pk=built.pk).portee_label == label


def test_a_single_tour_scrutin_names_its_one_tour(db):
    europeennes = ScrutinFactory(type=ScrutinType.EUROPEENNES, libelle="Élections européennes 2029",
                                 date_tour1=datetime.date(2029, 6, 10), date_tour2=None)
    p = ProcurationFactory(scrutin=europeennes, tour1=True, tour2=False)
    assert p.portee_label == "Élections européennes 2029 — 1er tour (10/06/2029)"


def test_a_procuration_for_a_duree_gives_its_dates(db):
    p = ProcurationFactory(portee="duree", scrutin=None, tour1=False, tour2=False,
                           valid_from=datetime.date(2027, 3, 1), valid_until=datetime.date(2028, 2, 29))
    assert p.portee_label == "Du 01/03/2027 au 29/02/2028"
    assert Procuration.objects.get(pk=p.pk).portee_label == "Du 01/03/2027 au 29/02/2028"
