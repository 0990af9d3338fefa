"""Quarters: the period the register's figures, KPIs, budgets and dashboards are kept by.

Every piece of quarter arithmetic lives here: a quarter is named by its first day.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


def quarter_start(day: datetime.date) -> datetime.date:
    """The first day of the quarter that contains ``day``."""
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_numbered(year: int, number: int) -> datetime.date:
    """Quarter ``number`` (1 to 4) of ``year``; ValueError for another number."""
    if not 1 <= number <= 4:
        raise ValueError(f"quarter {number}")
    return datetime.date(year, 3 * number - 2, 1)


def validate_quarter_start(value: datetime.date) -> None:
    if value != quarter_start(value):
        raise ValidationError(
            _("A period is a quarter: give its first day (1 Jan, 1 Apr, 1 Jul or 1 Oct).")
        )


# Each quarter's label, one message per quarter: Russian names it by a Roman numeral first
# ("III кв. 2026"), which a single "%(year)s Q%(number)s" could not say.
QUARTER_LABELS = (
    gettext_noop("%(year)s Q1"),
    gettext_noop("%(year)s Q2"),
    gettext_noop("%(year)s Q3"),
    gettext_noop("%(year)s Q4"),
)
_LABEL_FORMS = (
    re.compile(r"^(?P<year>\d{4})[ -]Q(?P<number>[1-4])$"),  # 2026 Q3, 2026-Q3
    re.compile(r"^Q(?P<number>[1-4]) (?P<year>\d{4})$"),  # Q3 2026
)


def quarter_number(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def quarter_label(day: datetime.date) -> str:
    """The quarter as its reader writes it: "2026 Q3" in English, "III кв. 2026" in Russian.
    Templates say it with the ``quarter`` filter (``{% load periods %}``)."""
    return _(QUARTER_LABELS[quarter_number(day) - 1]) % {"year": day.year}


def quarter_code(day: datetime.date) -> str:
    """The quarter in every language alike, for file names and machines: "2026-Q3"."""
    return f"{day.year}-Q{quarter_number(day)}"


def quarter_of_label(raw: str) -> datetime.date | None:
    """The quarter a stored label names ("2026 Q3", "2026-Q3", an ISO date), or None."""
    try:
        return quarter_start(datetime.date.fromisoformat(raw))
    except ValueError:
        pass
    for form in _LABEL_FORMS:
        match = form.match(raw.strip())
        if match:
            return quarter_numbered(int(match["year"]), int(match["number"]))
    return None


def previous_quarter(period: datetime.date) -> datetime.date:
    return quarter_start(quarter_start(period) - datetime.timedelta(days=1))


def next_quarter(period: datetime.date) -> datetime.date:
    return quarter_start(quarter_start(period) + datetime.timedelta(days=93))


def quarters_back(period: datetime.date, count: int) -> list[datetime.date]:
    """``count`` quarters ending with ``period``, oldest first."""
    quarters = [quarter_start(period)]
    while len(quarters) < count:
        quarters.append(previous_quarter(quarters[-1]))
    return quarters[::-1]


def quarter_end(period: datetime.date) -> datetime.date:
    """The last day of the quarter."""
    return next_quarter(period) - datetime.timedelta(days=1)


def quarter_bounds(period: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The quarter as [start, end) instants in the current time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(period, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(next_quarter(period), datetime.time.min, tzinfo=zone)
    return start, end


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` earlier (the 28th at most, so that every month has it)."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, min(day.day, 28))


# Quarters asked for in an address ------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 1900, 2999  # past these, a quarter's neighbours overflow the calendar


# A quarter's first day within those years, as the API's schema says it (ECMA regex).
QUARTER_PATTERN = r"^(19\d\d|2\d\d\d)-(01|04|07|10)-01$"


def _on_the_calendar(day: datetime.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


class InvalidPeriod(ValueError):
    """A ``period`` that is not the first day of a quarter."""


def period_parse(raw: str | None) -> datetime.date | None:
    """The quarter asked for in ``?period=YYYY-MM-DD``; None when none is asked."""
    if not raw:
        return None
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidPeriod(
            _("“%(period)s” is not a date: give the first day of a quarter, as 2026-01-01.")
            % {"period": raw[:20]}
        ) from None
    if not _on_the_calendar(day):
        raise InvalidPeriod(
            _("%(period)s is outside the years %(first)s–%(last)s.")
            % {"period": day.isoformat(), "first": FIRST_YEAR, "last": LAST_YEAR}
        )
    if day != quarter_start(day):
        raise InvalidPeriod(
            _("%(period)s is not the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct).")
            % {"period": day.isoformat()}
        )
    return day


def quarter_containing(raw: str | None, *, default: datetime.date) -> datetime.date:
    """The quarter of the day given as ``YYYY-MM-DD`` (any day of it), or ``default``'s quarter
    when none is given, or it is not a date within the years the calendar steps through."""
    try:
        day = datetime.date.fromisoformat(raw or "")
    except ValueError:
        return quarter_start(default)
    return quarter_start(day if _on_the_calendar(day) else default)
