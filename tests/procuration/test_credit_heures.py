"""The crédit d'heures rule (procuration/credit_heures.py): every row of the table of
/work/shared/domain.md on both sides of each population threshold, majoration, part time, the
yearly cap and the domain errors naming their field."""

import datetime

import pytest

from procuration import credit_heures as ch
from procuration.credit_heures import Assemblee, Fonction, Nature
from procuration.exceptions import DomainError

H = 60
C, D, R = Assemblee.COMMUNE, Assemblee.DEPARTEMENT, Assemblee.REGION

# (assemblée, fonction, population, expected minutes) — the law's table written out as literals.
TABLE = [
    (C, Fonction.MAIRE, 10_000, 140 * H),
    (C, Fonction.MAIRE, 250_000, 140 * H),
    (C, Fonction.MAIRE, 9_999, 122 * H + 30),
    (C, Fonction.MAIRE, 0, 122 * H + 30),
    (C, Fonction.ADJOINT, 30_000, 140 * H),
    (C, Fonction.ADJOINT, 29_999, 122 * H + 30),
    (C, Fonction.ADJOINT, 10_000, 122 * H + 30),
    (C, Fonction.ADJOINT, 9_999, 70 * H),
    (C, Fonction.ADJOINT, 380, 70 * H),
    (C, Fonction.CONSEILLER, 100_000, 70 * H),
    (C, Fonction.CONSEILLER, 99_999, 35 * H),
    (C, Fonction.CONSEILLER, 30_000, 35 * H),
    (C, Fonction.CONSEILLER, 29_999, 21 * H),
    (C, Fonction.CONSEILLER, 10_000, 21 * H),
    (C, Fonction.CONSEILLER, 9_999, 10 * H + 30),
    (C, Fonction.CONSEILLER, 120, 10 * H + 30),
    (D, Fonction.PRESIDENT, None, 140 * H),
    (D, Fonction.VICE_PRESIDENT, None, 140 * H),
    (D, Fonction.CONSEILLER, None, 105 * H),
    (R, Fonction.PRESIDENT, None, 140 * H),
    (R, Fonction.VICE_PRESIDENT, None, 140 * H),
    (R, Fonction.CONSEILLER, None, 105 * H),
]


@pytest.mark.parametrize(("assemblee", "fonction", "population", "minutes"), TABLE)
def test_every_row_of_the_table(assemblee, fonction, population, minutes):
    assert ch.credit_trimestriel(assemblee=assemblee, fonction=fonction, population=population) == minutes


def test_departement_and_region_ignore_the_population():
    assert ch.credit_trimestriel(assemblee=D, fonction=Fonction.CONSEILLER, population=500) == 105 * H


@pytest.mark.parametrize(("majoration", "temps", "minutes"), [
    (30, 100, 182 * H),  # 140 h + 30 % = 182 h
    (10, 100, 154 * H),
    (0, 50, 70 * H),  # half time: half the crédit
    (30, 80, 145 * H + 36),  # 140 h × 1,3 × 0,8 = 145,6 h = 145 h 36
])
def test_majoration_and_part_time_on_a_maire_of_a_big_commune(majoration, temps, minutes):
    assert ch.credit_trimestriel(assemblee=C, fonction=Fonction.MAIRE, population=20_000, majoration=majoration,
                                 temps_travail=temps) == minutes


def test_rounded_down_to_the_minute():
    # 10 h 30 × 1,07 × 0,33 = 222,453 minutes: 222, never more than the law.
    assert ch.credit_trimestriel(assemblee=C, fonction=Fonction.CONSEILLER, population=100, majoration=7,
                                 temps_travail=33) == 222


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"assemblee": "senat", "fonction": Fonction.MAIRE, "population": 1}, "assemblee"),
    ({"assemblee": D, "fonction": Fonction.MAIRE}, "fonction"),
    ({"assemblee": C, "fonction": Fonction.PRESIDENT, "population": 1}, "fonction"),
    ({"assemblee": C, "fonction": Fonction.MAIRE}, "population"),
    ({"assemblee": C, "fonction": Fonction.MAIRE, "population": 1, "majoration": 31}, "majoration"),
    ({"assemblee": C, "fonction": Fonction.MAIRE, "population": 1, "majoration": -1}, "majoration"),
    ({"assemblee": C, "fonction": Fonction.MAIRE, "population": 1, "temps_travail": 0}, "temps_travail"),
    ({"assemblee": C, "fonction": Fonction.MAIRE, "population": 1, "temps_travail": 101}, "temps_travail"),
])
def test_inputs_outside_the_law_name_their_field(kwargs, field):
    with pytest.raises(DomainError) as e:
        ch.credit_trimestriel(**kwargs)
    assert e.value.field == field


def test_majoration_of_30_is_allowed():
    assert ch.credit_trimestriel(assemblee=C, fonction=Fonction.CONSEILLER, population=1, majoration=30) == 819


def test_the_yearly_cap_is_803_h_30():
    assert ch.ANNUAL_CAP_MINUTES == 48_210


def test_absence_up_to_the_quarter_credit_then_refused():
    ch.check_absence(nature=Nature.CREDIT, duree=60, credit=630, used_quarter=570, used_year=570)  # exactly 10 h 30
    with pytest.raises(DomainError) as e:
        ch.check_absence(nature=Nature.CREDIT, duree=61, credit=630, used_quarter=570, used_year=570)
    assert e.value.field == "duree" and e.value.code == "credit_depasse"
    assert "il vous reste 1 h sur 10 h 30" in e.value.message


def test_meeting_absences_do_not_use_the_credit_but_count_in_the_cap():
    ch.check_absence(nature=Nature.REUNION, duree=600, credit=630, used_quarter=630, used_year=0)
    ch.check_absence(nature=Nature.REUNION, duree=30, credit=0, used_quarter=0, used_year=48_180)  # reaches 803 h 30
    with pytest.raises(DomainError) as e:
        ch.check_absence(nature=Nature.REUNION, duree=31, credit=0, used_quarter=0, used_year=48_180)
    assert e.value.field == "duree" and e.value.code == "plafond_annuel"
    assert "803 h 30" in e.value.message and "il vous reste 0 h 30 cette année" in e.value.message


def test_credit_absences_also_stop_at_the_cap():
    with pytest.raises(DomainError) as e:
        ch.check_absence(nature=Nature.CREDIT, duree=120, credit=8400, used_quarter=0, used_year=48_200)
    assert e.value.code == "plafond_annuel"


@pytest.mark.parametrize(("kwargs", "field"), [({"nature": "conge", "duree": 60}, "nature"),
                                               ({"nature": Nature.CREDIT, "duree": 0}, "duree")])
def test_bad_absence_names_its_field(kwargs, field):
    with pytest.raises(DomainError) as e:
        ch.check_absence(credit=600, used_quarter=0, used_year=0, **kwargs)
    assert e.value.field == field


@pytest.mark.parametrize(("day", "start", "end"), [
    (datetime.date(2026, 1, 1), datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
    (datetime.date(2026, 3, 31), datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
    (datetime.date(2026, 4, 1), datetime.date(2026, 4, 1), datetime.date(2026, 6, 30)),
    (datetime.date(2026, 12, 5), datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)),
])
def test_quarters(day, start, end):
    assert ch.quarter_bounds(day) == (start, end)


def test_compensation_and_formatting():
    assert str(ch.compensation_max()) == "1217.52"
    assert ch.format_minutes(7350) == "122 h 30" and ch.format_minutes(8400) == "140 h"
