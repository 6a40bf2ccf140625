"""The lifetime of a demande: two calendar months (arrêté du 31 mars 2021).

The one home of the rule: the counter, the mandant's pages, the e-mails and the beat task
(tasks.expire_and_purge) all ask `demande_expires_on`. A delay in months ends on the day of the
last month with the same number as the starting day, or on that month's last day when it has no
such number (code de procédure civile, art. 641): a demande submitted on 4 January may be
validated up to 4 March included, one submitted on 31 December up to 28 February (29 in a leap
year). It expires the day after.
"""

import calendar
import datetime

from django.utils import timezone

DEMANDE_LIFETIME_MONTHS = 2


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def demande_expires_on(submitted_at: datetime.datetime | datetime.date) -> datetime.date:
    """The last day (Paris time) on which a demande submitted (or a brouillon created) at
    `submitted_at` may still be validated."""
    day = timezone.localdate(submitted_at) if isinstance(submitted_at, datetime.datetime) else submitted_at
    return add_months(day, DEMANDE_LIFETIME_MONTHS)


def is_past(submitted_at, today: datetime.date | None = None) -> bool:
    """True once the demande's last day is over."""
    return demande_expires_on(submitted_at) < (today or timezone.localdate())


def expired_before(today: datetime.date | None = None) -> datetime.datetime:
    """The moment before which every demande submitted has expired by `today`: the start (Paris
    time) of the first day whose demandes are still valid. `demande_expires_on` grows with the
    day of submission, so that day is the first one, scanning from three months back, that
    `is_past` does not reject. For the beat task's query."""
    today = today or timezone.localdate()
    day = add_months(today, -(DEMANDE_LIFETIME_MONTHS + 1))
    while is_past(day, today):
        day += datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
