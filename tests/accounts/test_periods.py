"""Quarters, in the one module that does their arithmetic."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from accounts.periods import (
    InvalidPeriod,
    months_before,
    next_quarter,
    period_parse,
    previous_quarter,
    quarter_bounds,
    quarter_end,
    quarter_label,
    quarter_start,
    quarters_back,
)

D = datetime.date


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2026, 1, 1), D(2026, 1, 1)),
        (D(2026, 3, 31), D(2026, 1, 1)),
        (D(2026, 12, 4), D(2026, 10, 1)),
    ],
)
def test_a_day_belongs_to_the_quarter_that_starts_on_the_first_of_its_third(
    day: datetime.date, start: datetime.date
) -> None:
    assert quarter_start(day) == start


def test_quarters_step_across_years() -> None:
    assert previous_quarter(D(2026, 1, 1)) == D(2025, 10, 1)
    assert next_quarter(D(2025, 12, 31)) == D(2026, 1, 1)
    assert quarter_end(D(2026, 4, 1)) == D(2026, 6, 30)
    assert quarters_back(D(2026, 4, 1), 3) == [D(2025, 10, 1), D(2026, 1, 1), D(2026, 4, 1)]
    assert quarter_label(D(2026, 7, 1)) == "2026 Q3"
    start, end = quarter_bounds(D(2026, 1, 1))
    assert (end - start).days == 90


def test_months_before_keeps_a_day_every_month_has() -> None:
    assert months_before(D(2026, 3, 31), 1) == D(2026, 2, 28)
    assert months_before(D(2026, 1, 15), 13) == D(2024, 12, 15)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("yesterday", "is not a date"),
        ("2026-02-01", "not the first day of a quarter"),
        ("0001-01-01", "outside the years"),
        ("9999-10-01", "outside the years"),
    ],
)
def test_a_period_asked_for_is_a_quarter_within_bounds(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPeriod, match=reason):
        period_parse(raw)
    assert period_parse("2026-10-01") == D(2026, 10, 1)
    assert period_parse("") is None


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["0001-01-01", "9999-10-01"])
def test_a_dashboard_for_a_quarter_off_the_calendar_is_a_clear_400(
    client_as, director: User, raw: str
) -> None:
    http: HttpClient = client_as(director)
    api = http.get("/api/dashboards/portfolio/", {"period": raw})
    assert api.status_code == 400
    assert "outside the years" in api.json()["period"][0]
    page = http.get("/committee/dashboards/", {"period": raw})
    assert page.status_code == 400
    assert "outside the years" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.time_machine("2026-11-18T12:00+03:00")
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("2026-05-17", "2026-04-01"),
        ("0001-01-01", "2026-10-01"),
        ("9999-12-31", "2026-10-01"),
        ("soon", "2026-10-01"),
    ],
)
def test_the_budgets_page_shows_the_quarter_asked_for_or_this_one(
    client_as, chair: User, raw: str, shown: str
) -> None:
    page = client_as(chair).get("/committee/budgets/", {"quarter": raw})
    assert page.status_code == 200
    assert page.context["period"] == D.fromisoformat(shown)
