"""Every date rule on both sides of its limit: the last day (or minute) that is still inside, and
the first one outside. Dates are written out as literals (the law's calendar), never computed with
the code's own helpers, so that an off-by-one in the code fails here.

The ILE deadline's last minute is in tests/listes/test_filing.py
(test_ile_deadline_is_midnight_paris_after_the_sixth_wednesday: 23:59:30 accepted, 00:00 refused);
the counter's side of the demande's lifetime in tests/police/test_expiry_at_the_counter.py."""

import datetime
import zoneinfo

import pytest
import time_machine

from procuration.exceptions import DomainError
from procuration.expiry import add_months, demande_expires_on, expired_before, is_past
from procuration.models import Procuration, Status
from procuration.tasks import expire_and_purge
from tests.factories import ElecteurFactory, ProcurationFactory, ScrutinFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def at(*args):
    """Travel to a moment given in Paris time."""
    return time_machine.travel(datetime.datetime(*args, tzinfo=PARIS), tick=False)


def d(*args):
    return datetime.date(*args)


# ------------------------------------------------------------------ the demande's two calendar months


@pytest.mark.parametrize(
    ("submitted", "last_day"),
    [
        ((2027, 1, 4, 11, 0), d(2027, 3, 4)),  # same day number two months later
        ((2026, 12, 31, 12, 0), d(2027, 2, 28)),  # no 31 February: the last day of the month
        ((2027, 12, 31, 12, 0), d(2028, 2, 29)),  # ... 29 in a leap year
        ((2027, 12, 30, 9, 0), d(2028, 2, 29)),
        ((2027, 12, 29, 9, 0), d(2028, 2, 29)),
        ((2027, 12, 28, 9, 0), d(2028, 2, 28)),
        ((2027, 8, 31, 9, 0), d(2027, 10, 31)),
        ((2027, 10, 31, 9, 0), d(2027, 12, 31)),  # into December, same year
        ((2027, 7, 31, 9, 0), d(2027, 9, 30)),
        ((2027, 11, 15, 9, 0), d(2028, 1, 15)),  # across the year
        ((2027, 1, 4, 0, 30), d(2027, 3, 4)),  # 23:30 UTC on the 3rd: the day is Paris's
        ((2027, 1, 3, 23, 59), d(2027, 3, 3)),
    ],
)
def test_demande_last_day_is_two_calendar_months_later(submitted, last_day):
    assert demande_expires_on(datetime.datetime(*submitted, tzinfo=PARIS)) == last_day


def test_add_months_backwards_and_over_years():
    assert add_months(d(2027, 1, 31), -3) == d(2026, 10, 31)
    assert add_months(d(2027, 5, 31), -3) == d(2027, 2, 28)
    assert add_months(d(2027, 3, 15), 12) == d(2028, 3, 15)
    assert add_months(d(2027, 3, 15), 0) == d(2027, 3, 15)
    assert add_months(d(2027, 12, 15), 0) == d(2027, 12, 15)
    assert add_months(d(2027, 12, 15), 11) == d(2028, 11, 15)
    assert add_months(d(2027, 12, 15), 12) == d(2028, 12, 15)


def test_is_past_on_both_sides_of_the_last_day():
    submitted = datetime.datetime(2027, 1, 4, 11, 0, tzinfo=PARIS)
    assert not is_past(submitted, d(2027, 1, 4))
    assert not is_past(submitted, d(2027, 3, 4))
    assert is_past(submitted, d(2027, 3, 5))
    assert is_past(submitted, d(2027, 6, 1))


@pytest.mark.parametrize(
    ("today", "first_valid_day"),
    [
        (d(2027, 3, 5), d(2027, 1, 5)),
        (d(2027, 3, 1), d(2027, 1, 1)),  # 29-31 December ended on 28 February
        (d(2027, 2, 28), d(2026, 12, 28)),
        (d(2027, 4, 30), d(2027, 3, 1)),  # 28 February ended on 28 April; no day ends on 29 or 30 April
        (d(2027, 4, 29), d(2027, 3, 1)),
        (d(2028, 2, 29), d(2027, 12, 29)),
    ],
)
def test_the_beat_tasks_limit_is_the_start_of_the_first_day_still_valid(today, first_valid_day):
    assert expired_before(today) == datetime.datetime.combine(first_valid_day, datetime.time(0, 0), tzinfo=PARIS)


@pytest.mark.parametrize(
    ("submitted", "last_minute", "first_minute"),
    [
        ((2027, 1, 4, 11, 0), (2027, 3, 4, 23, 59, 59), (2027, 3, 5, 0, 0)),
        ((2026, 12, 31, 12, 0), (2027, 2, 28, 23, 59, 59), (2027, 3, 1, 0, 0)),
        ((2027, 12, 31, 12, 0), (2028, 2, 29, 23, 59, 59), (2028, 3, 1, 0, 0)),
        ((2027, 2, 28, 12, 0), (2027, 4, 28, 23, 59, 59), (2027, 4, 29, 0, 0)),
        ((2027, 3, 1, 9, 0), (2027, 5, 1, 23, 59, 59), (2027, 5, 2, 0, 0)),
    ],
)
def test_beat_task_expires_the_demande_the_day_after_its_last_day(db, submitted, last_minute, first_minute):
    with at(*submitted):
        scrutin = ScrutinFactory(date_tour1=d(2028, 6, 11), date_tour2=d(2028, 6, 18))
        p = ProcurationFactory(scrutin=scrutin)
        p.soumettre()
    with at(*last_minute):
        assert expire_and_purge()["expirees"] == 0
    p.refresh_from_db()
    assert p.status == Status.EN_ATTENTE
    with at(*first_minute):
        assert expire_and_purge()["expirees"] == 1
    p.refresh_from_db()
    assert p.status == Status.EXPIREE
    assert p.ended_at == datetime.datetime(*first_minute, tzinfo=PARIS)


def test_brouillon_is_deleted_the_day_after_its_two_months(db):
    with at(2027, 1, 4, 11, 0):
        old = ProcurationFactory(scrutin=ScrutinFactory(date_tour1=d(2027, 6, 13), date_tour2=d(2027, 6, 20)))
    with at(2027, 3, 4, 23, 59, 59):
        expire_and_purge()
    assert Procuration.objects.filter(pk=old.pk).exists()
    with at(2027, 3, 5, 0, 0):
        expire_and_purge()
    assert not Procuration.objects.filter(pk=old.pk).exists()


def test_pages_and_email_give_the_last_day(db, mailoutbox, django_capture_on_commit_callbacks):
    with at(2026, 12, 31, 12, 0), django_capture_on_commit_callbacks(execute=True):
        p = ProcurationFactory(scrutin=ScrutinFactory(date_tour1=d(2027, 6, 13), date_tour2=d(2027, 6, 20)),
                               email_contact="marie@example.fr")
        p.soumettre()
    assert p.expires_on() == d(2027, 2, 28)
    assert "Sans validation au plus tard le 28/02/2027, la demande expirera" in mailoutbox[0].body


# ------------------------------------------------------------------ a scrutin dated today


@pytest.mark.parametrize(
    ("tour1", "tour2", "choice", "ok"),
    [
        (d(2027, 3, 14), d(2027, 3, 21), (True, False), True),  # the 1st tour is today
        (d(2027, 3, 14), d(2027, 3, 21), (True, True), True),
        (d(2027, 3, 13), d(2027, 3, 20), (True, False), False),  # it was yesterday
        (d(2027, 3, 7), d(2027, 3, 14), (False, True), True),  # the 2nd tour is today
        (d(2027, 3, 7), d(2027, 3, 14), (True, True), False),  # the 1st tour is past
    ],
)
def test_a_demande_may_be_made_up_to_the_day_of_the_tour(commune, tour1, tour2, choice, ok):
    with at(2027, 3, 14, 0, 30):  # still 13 March in UTC: « today » is Paris's
        scrutin = ScrutinFactory(date_tour1=tour1, date_tour2=tour2)
        p = ProcurationFactory(mandant=ElecteurFactory(commune=commune), scrutin=scrutin, tour1=choice[0],
                               tour2=choice[1])
        if ok:
            assert p.soumettre() is True
        else:
            with pytest.raises(DomainError, match="déjà passé") as excinfo:
                p.soumettre()
            assert excinfo.value.code == "passe"
            p.refresh_from_db()
            assert p.status == Status.BROUILLON


# ------------------------------------------------------------------ the durée limitée


def duree(commune, start, end, etablissement="france"):
    return ProcurationFactory(mandant=ElecteurFactory(commune=commune), portee="duree", scrutin=None, tour1=False,
                              tour2=False, valid_from=start, valid_until=end, etablissement=etablissement)


@pytest.mark.parametrize(
    ("today", "start", "end", "etablissement", "refused"),
    [
        ((2027, 3, 10), d(2027, 3, 10), d(2028, 3, 10), "france", None),  # one year, last day included
        ((2027, 3, 10), d(2027, 3, 10), d(2028, 3, 11), "france", "duree"),
        ((2027, 3, 10), d(2027, 3, 10), d(2030, 3, 10), "etranger", None),  # three years abroad
        ((2027, 3, 10), d(2027, 3, 10), d(2030, 3, 11), "etranger", "duree"),
        ((2027, 3, 10), d(2027, 4, 1), d(2028, 4, 1), "france", None),  # counted from its first day
        ((2027, 3, 10), d(2027, 4, 1), d(2028, 4, 2), "france", "duree"),
        ((2028, 2, 29), d(2028, 2, 29), d(2029, 2, 28), "france", None),  # no 29 February in 2029
        ((2028, 2, 29), d(2028, 2, 29), d(2029, 3, 1), "france", "duree"),
        ((2027, 3, 10), d(2027, 3, 9), d(2027, 4, 9), "france", "passe"),  # it cannot start yesterday
        ((2027, 3, 10), d(2027, 3, 10), d(2027, 3, 10), "france", None),  # one day, today
    ],
)
def test_duree_limitee_on_both_sides_of_its_maximum(commune, today, start, end, etablissement, refused):
    with at(*today, 0, 30):  # 00:30 in Paris is still the day before in UTC: « today » is Paris's
        p = duree(commune, start, end, etablissement)
        if refused is None:
            assert p.soumettre() is True
        else:
            with pytest.raises(DomainError) as excinfo:
                p.soumettre()
            assert excinfo.value.code == refused
            p.refresh_from_db()
            assert p.status == Status.BROUILLON


# ------------------------------------------------------------------ end of validity and retention


@pytest.mark.parametrize("status", ["validee_autorite", "validee_mairie"])
def test_procuration_is_echue_the_day_after_its_last_day(db, status):
    p = ProcurationFactory(en_attente=True, status=status,
                           scrutin=ScrutinFactory(date_tour1=d(2027, 6, 13), date_tour2=d(2027, 6, 20)))
    with at(2027, 6, 20, 23, 59, 59):
        assert expire_and_purge()["echues"] == 0
    with at(2027, 6, 21, 0, 0):
        assert expire_and_purge()["echues"] == 1
    p.refresh_from_db()
    assert p.status == Status.ECHUE


@pytest.mark.parametrize("status", ["echue", "resiliee", "invalidee_mairie"])
def test_established_procuration_is_kept_until_one_year_after_its_last_day(db, status):
    """Valid until 20 June 2028: kept through 20 June 2029, purged from the 21st (no 29 February in
    between: 365 days and one calendar year agree)."""
    p = ProcurationFactory(en_attente=True, status=status,
                           scrutin=ScrutinFactory(date_tour1=d(2028, 6, 11), date_tour2=d(2028, 6, 20)))
    with at(2029, 6, 20, 23, 59, 59):
        assert expire_and_purge()["purgees"] == 0
    assert Procuration.objects.filter(pk=p.pk).exists()
    with at(2029, 6, 21, 0, 0):
        assert expire_and_purge()["purgees"] == 1
    assert not Procuration.objects.filter(pk=p.pk).exists()


@pytest.mark.parametrize("status", ["refusee_autorite"])  # an expirée one at expiry: test_expiry_at_read_time.py
def test_ended_demande_is_purged_after_exactly_seven_days(db, status):
    ended = datetime.datetime(2027, 3, 5, 0, 0, tzinfo=PARIS)
    p = ProcurationFactory(en_attente=True, status=status, ended_at=ended,
                           scrutin=ScrutinFactory(date_tour1=d(2027, 6, 13), date_tour2=d(2027, 6, 20)))
    with at(2027, 3, 12, 0, 0):  # seven days to the second: not yet
        assert expire_and_purge()["purgees"] == 0
    assert Procuration.objects.filter(pk=p.pk).exists()
    with at(2027, 3, 12, 0, 0, 1):
        assert expire_and_purge()["purgees"] == 1
    assert not Procuration.objects.filter(pk=p.pk).exists()
