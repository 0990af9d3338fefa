"""Redis is an accelerator, not a dependency: with the cache's Redis killed or frozen, signed-in
users browse, sign in, vote and close proposals; nothing rolls back because the dashboards'
cache could not be told; what went stale while Redis was away is not read once it is back.

Each test runs its own redis-server (tests/faults/servers.py), never the shared one."""

from __future__ import annotations

import datetime
import os
import signal
import time

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from criteria.models import EvaluationRun
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    vote_cast,
)
from governance.kpis.cache import data_version
from governance.models import CommitteeMember, Decision, Proposal, ProposalState, Vote
from skam.celery import app
from tests.criteria.test_evaluation import adopt_ruler
from tests.factories import PASSWORD, ClientFactory
from tests.faults.servers import REDIS_PORTS, ThrowawayRedis, free_port, throwaway_redis

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


def cache_on(settings, redis: ThrowawayRedis, *, retry_after: float) -> None:
    default = dict(settings.CACHES["default"])
    default.update(
        BACKEND="skam.cache.RedisCache",
        LOCATION=redis.url,
        OPTIONS={"retry_after": retry_after},
    )
    settings.CACHES = {**settings.CACHES, "default": default}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def redis(settings):
    """The cache and the sessions' cache on a throwaway Redis; tried again at every call once
    it failed, so the test sees the recovery at once."""
    with throwaway_redis() as server:
        cache_on(settings, server, retry_after=0)
        yield server


@pytest.fixture
def seats(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    return [chair, member]


@pytest.fixture
def open_grant(seats, member, account_of_kam) -> Proposal:
    return proposal_open(
        proposal=proposal_create(
            type="grant_key",
            title="Key for Volga",
            rationale="Why",
            by=member,
            client=account_of_kam,
        ),
        deadline=timezone.now() + datetime.timedelta(days=2),
    )


def signed_in(username: str) -> tuple[Browser, int]:
    browser = Browser()
    answer = browser.post(reverse("login"), {"username": username, "password": PASSWORD})
    return browser, answer.status_code


def test_pages_sign_ins_votes_and_closes_work_with_redis_killed(
    redis: ThrowawayRedis, open_grant: Proposal, chair, member, director
) -> None:
    member_browser, status = signed_in("member")
    assert status == 302
    director_browser, _status = signed_in("director")
    pages = [reverse("home"), reverse("governance:proposal-list"), open_grant.get_absolute_url()]

    redis.stop()
    started = time.monotonic()
    statuses = [member_browser.get(page).status_code for page in pages]
    statuses.append(director_browser.get(reverse("governance:dashboard-portfolio")).status_code)
    voted = member_browser.post(open_grant.get_absolute_url(), {"choice": "for"})
    chair_browser, chair_signed_in = signed_in("chair")
    chair_voted = chair_browser.post(open_grant.get_absolute_url(), {"choice": "for"})
    closed = chair_browser.post(reverse("governance:proposal-close", args=[open_grant.pk]))
    signed_out = member_browser.post(reverse("logout"))
    elapsed = time.monotonic() - started
    print(f"\nRedis killed: {len(statuses) + 5} requests in {elapsed:.2f} s, statuses {statuses}")

    assert statuses == [200, 200, 200, 200]
    assert (voted.status_code, chair_signed_in, chair_voted.status_code) == (302, 302, 302)
    assert (closed.status_code, signed_out.status_code) == (302, 302)
    assert Vote.objects.filter(proposal=open_grant, is_current=True).count() == 2
    open_grant.refresh_from_db()
    assert open_grant.state == ProposalState.ADOPTED  # the dashboards' signal rolled nothing back
    assert Decision.objects.filter(proposal=open_grant).exists()

    redis.start()  # empty: a restart loses what it held
    assert chair_browser.get(reverse("governance:proposal-list")).status_code == 200
    assert director_browser.get(reverse("governance:dashboard-portfolio")).status_code == 200
    assert member_browser.get(reverse("home")).status_code == 302  # signed out stays out


def test_what_changed_while_redis_was_frozen_is_not_read_when_it_thaws(
    settings, open_grant: Proposal, chair, member
) -> None:
    """A frozen Redis (SIGSTOP: it accepts connections, answers nothing) keeps its data: a
    sign-out and a decision made meanwhile must not be undone by its old copies."""
    with throwaway_redis() as server:
        cache_on(settings, server, retry_after=0.2)
        member_browser, _status = signed_in("member")
        assert member_browser.get(reverse("home")).status_code == 200  # the session is cached
        session_key = member_browser.cookies[settings.SESSION_COOKIE_NAME].value
        version_before = data_version()
        for user in (chair, member):
            vote_cast(proposal=open_grant, member=user, choice="for")

        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert member_browser.post(reverse("logout")).status_code == 302
            closed = proposal_close(proposal=open_grant)  # writes the dashboards' version
            frozen_for = time.monotonic() - started
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        time.sleep(0.3)  # past retry_after: the next call tries Redis again
        print(f"\nRedis frozen: a sign-out and a close took {frozen_for:.2f} s")

        assert closed.state == ProposalState.ADOPTED
        stolen = Browser()
        stolen.cookies[settings.SESSION_COOKIE_NAME] = session_key
        assert stolen.get(reverse("home")).status_code == 302  # to the sign-in page
        assert data_version() != version_before  # the dashboards are built afresh


@pytest.fixture
def broker_down():
    """Celery's broker on a port where no Redis listens (and the pools that knew the old one
    dropped); put back afterwards."""
    saved = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port(REDIS_PORTS)}/0"
    app._after_fork()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        app._after_fork()


def test_starting_a_run_answers_while_the_broker_is_down(
    broker_down, client_as, administrator, chair, django_capture_on_commit_callbacks
) -> None:
    adopt_ruler()
    ClientFactory.create_batch(2)

    page = client_as(chair).post(reverse("criteria:run-start"), follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        api = client_as(administrator).post("/api/runs/")

    assert page.status_code == 200
    assert "The workers cannot be reached just now" in page.content.decode()
    assert api.status_code == 201  # the run is in the database; the watchdog resumes it
    assert EvaluationRun.objects.get().in_progress is True
