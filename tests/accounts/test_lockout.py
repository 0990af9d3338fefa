"""Guessing passwords: after AXES_FAILURE_LIMIT wrong ones for a user name from one address,
the login page, the admin's and the token endpoint refuse that pair, the right password too,
for the cool-off; every failure and the lock-out are logged and kept for the administrator."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client as HttpClient

from accounts.models import User
from tests.accounts.signin import signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def guess(path: str, username: str, password: str = "guess") -> int:
    return HttpClient().post(path, {"username": username, "password": password}).status_code


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/api/auth/token/"])
def test_repeated_failures_lock_the_user_name_out_everywhere(
    path: str, kam: User, kam2: User, settings, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="axes")
    refused = 401 if path.startswith("/api/") else 200
    answers = [guess(path, kam.username) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert answers[:-1] == [refused] * (settings.AXES_FAILURE_LIMIT - 1)
    assert answers[-1] == 429

    # Now the right password is refused too, on every way in...
    assert guess("/login/", kam.username, PASSWORD) == 429
    assert guess("/api/auth/token/", kam.username, PASSWORD) == 429
    assert signed_in(kam.username, PASSWORD) is None
    # ...but not for someone else.
    assert signed_in(kam2.username, PASSWORD)

    assert AccessAttempt.objects.get(username=kam.username).failures_since_start >= 5
    assert AccessFailureLog.objects.filter(username=kam.username).count() >= 5
    assert any("locking out" in record.getMessage().lower() for record in caplog.records)


def test_the_lockout_page_says_why_and_where_to_go(kam: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        guess("/login/", kam.username)
    answer = HttpClient().post("/login/", {"username": kam.username, "password": "guess"})
    assert answer.status_code == 429
    page = answer.content.decode()
    assert "Too many failed attempts" in page
    assert 'href="/password/forgotten/"' in page


def test_the_token_endpoint_says_so_in_its_own_words(kam: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        guess("/api/auth/token/", kam.username)
    answer = HttpClient().post("/api/auth/token/", {"username": kam.username, "password": PASSWORD})
    assert answer.status_code == 429
    assert "locked" in answer.json()["detail"]


def test_a_success_before_the_limit_starts_the_count_again(kam: User, settings) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        guess("/login/", kam.username)
    assert signed_in(kam.username, PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        guess("/login/", kam.username)
    assert signed_in(kam.username, PASSWORD)


def test_the_administrator_reads_the_attempts_and_may_lift_a_lockout(
    client_as, administrator: User, kam: User, settings
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        guess("/login/", kam.username)
    http = client_as(administrator)
    assert kam.username in http.get("/admin/axes/accessattempt/").content.decode()
    attempt = AccessAttempt.objects.get(username=kam.username)
    lifted = http.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert lifted.status_code == 302
    assert signed_in(kam.username, PASSWORD)
