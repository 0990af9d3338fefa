"""Quarters: the period the register's figures, KPIs, budgets and dashboards are kept by."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import quarter_start

# Quarters ------------------------------------------------------------------------------------


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
