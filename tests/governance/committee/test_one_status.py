"""One source of truth for key status: right after the committee decides, every page that shows
a client's status or counts key clients agrees — the scorecard, the ruler's agenda, the
portfolio map, the dashboard of the quarter in progress, the home page and the policy page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, User
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import ReviewItem, RulerStatus, RulerVersion
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.kpis.snapshots import snapshot_quarter
from governance.models import CommitteeMember, CommitteeRole, PolicyStatus, ProposalState
from tests.factories import QUARTER, ClientFactory, PolicyFactory, meets_the_ruler

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def flagged(chair: User, account_of_kam: Client) -> Client:
    """A client that meets the ruler and is not key: the last run put it on the agenda.
    Another client is key already; the quarter in progress has its snapshot."""
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    PolicyFactory(status=PolicyStatus.IN_FORCE, key_clients_min=1, key_clients_max=5)
    meets_the_ruler(account_of_kam)
    meets_the_ruler(ClientFactory(name="Already key", is_key=True))
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 11, 1)))
    snapshot_quarter(QUARTER)
    assert ReviewItem.objects.filter(client=account_of_kam, closed_at__isnull=True).exists()
    return account_of_kam


def adopt_grant(chair: User, client: Client) -> None:
    proposal = proposal_create(
        type="grant_key", title="Key status", rationale="Meets the ruler.", by=chair, client=client
    )
    proposal = proposal_open(
        proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3)
    )
    vote_cast(proposal=proposal, member=chair, choice="for")
    assert proposal_close(proposal=proposal, early=True).state == ProposalState.ADOPTED


def key_count_on_the_dashboard(page: str) -> int:
    first = page.split('data-testid="headline-value">')[1]
    return int(first.split(" ")[0])


def test_a_grant_answers_the_rulers_agenda_at_once(client_as, chair, flagged) -> None:
    adopt_grant(chair, flagged)
    http = client_as(chair)

    scorecard = http.get(reverse("criteria:scorecard", args=[flagged.pk])).text
    overview = http.get(reverse("criteria:overview")).text

    assert "Key client" in scorecard
    assert "Meets the ruler but is not a key client" not in scorecard
    assert flagged.name not in overview
    assert "Nothing to review" in overview


def test_the_portfolio_map_shows_the_status_decided_since_the_run(
    client_as, chair, flagged
) -> None:
    adopt_grant(chair, flagged)

    response = client_as(chair).get(reverse("criteria:portfolio"))

    assert response.context["summary"]["key_meets"] == 2
    assert response.context["summary"]["meets_not_key"] == 0
    groups = {point["name"]: point["group"] for point in response.context["chart"]["points"]}
    assert groups[flagged.name] == "key_meets"
    assert 'data-testid="disagreements"' not in response.text


def test_a_grant_recomputes_the_quarter_in_progress_and_the_counts_agree(
    client_as, chair, flagged, django_capture_on_commit_callbacks
) -> None:
    http = client_as(chair)
    dashboard = reverse("governance:dashboard-portfolio") + f"?period={QUARTER.isoformat()}"
    assert key_count_on_the_dashboard(http.get(dashboard).text) == 1

    with django_capture_on_commit_callbacks(execute=True):
        adopt_grant(chair, flagged)

    home = http.get(reverse("home")).text
    policy = http.get(reverse("governance:policy")).text
    assert key_count_on_the_dashboard(http.get(dashboard).text) == 2
    assert re.search(r'tile-figure">2</span>\s*<span>key clients', home)
    assert "(now 2)" in policy


def test_a_revoke_answers_the_agenda_of_a_key_client_that_fails(
    client_as, chair, account_of_kam
) -> None:
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    account_of_kam.refresh_from_db()
    meets_the_ruler(account_of_kam, degree="0.5")
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 11, 1)))
    assert ReviewItem.objects.filter(client=account_of_kam, kind="key_fails").exists()

    proposal = proposal_create(
        type="revoke_key", title="Revoke", rationale="Fails.", by=chair, client=account_of_kam
    )
    proposal = proposal_open(
        proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3)
    )
    vote_cast(proposal=proposal, member=chair, choice="for")
    proposal_close(proposal=proposal, early=True)

    scorecard = client_as(chair).get(reverse("criteria:scorecard", args=[account_of_kam.pk])).text
    assert "Regular client" in scorecard
    assert "Key client that no longer meets the ruler" not in scorecard
    assert not ReviewItem.objects.filter(closed_at__isnull=True).exists()
