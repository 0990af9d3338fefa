"""Conditional GET: an API client that polls a dashboard gets "304 Not Modified" while nothing
it shows has changed, and the figures again once something has; never past the access check."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient

from accounts.models import User
from governance.models import MandateStatus
from tests.factories import MandateFactory

PORTFOLIO = "/api/dashboards/portfolio/"


@pytest.mark.django_db
@pytest.mark.time_machine("2026-11-18T12:00+03:00")
def test_a_dashboard_polled_again_is_not_sent_again_until_it_changes(
    client_as, director: User, kam: User
) -> None:
    http: HttpClient = client_as(director)
    first = http.get(PORTFOLIO)
    assert first.status_code == 200
    etag = first.headers["ETag"]

    again = http.get(PORTFOLIO, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    # A mandate left in force past its end: the portfolio's drift table counts it.
    MandateFactory(kam=kam, status=MandateStatus.IN_FORCE, valid_to=datetime.date(2026, 6, 30))
    changed = http.get(PORTFOLIO, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


@pytest.mark.django_db
def test_a_known_etag_opens_nothing_the_reader_may_not_see(
    client_as, director: User, kam: User
) -> None:
    etag = client_as(director).get(PORTFOLIO).headers["ETag"]
    refused = client_as(kam).get(PORTFOLIO, HTTP_IF_NONE_MATCH=etag)
    assert refused.status_code == 403
