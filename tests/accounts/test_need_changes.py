"""A KAM's edits to their clients' needs (which feed the ruler) are recorded with who and when,
on every path (page, API, admin); the scorecard and an open proposal about the client say that
the needs changed since the evidence was frozen, and by whom."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, NeedChange, User
from governance.committee.proposals import proposal_create, proposal_open
from governance.models import CommitteeMember
from tests.factories import NeedFactory, UserFactory, meets_the_ruler

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


def test_the_needs_page_records_the_kams_change(client_as, kam: User, account_of_kam: Client):
    need = NeedFactory(client=account_of_kam, name="Deferred payment", weight=3)
    client_as(kam).post(
        reverse("accounts:client-needs", args=[account_of_kam.pk]),
        {
            "needs-TOTAL_FORMS": "1",
            "needs-INITIAL_FORMS": "1",
            "needs-0-id": need.pk,
            "needs-0-name": "Deferred payment",
            "needs-0-weight": "9",
        },
    )
    change = NeedChange.objects.get()
    assert (change.client, change.changed_by) == (account_of_kam, kam)
    assert [n["weight"] for n in change.before] == [3]
    assert [n["weight"] for n in change.after] == [9]


def test_the_api_records_each_change_and_nothing_when_nothing_changed(
    client_as, kam: User, account_of_kam: Client
):
    http = client_as(kam)
    made = http.post(
        "/api/needs/",
        {"client": account_of_kam.pk, "name": "Just in time", "weight": 6},
        content_type="application/json",
    )
    assert made.status_code == 201
    need = made.json()["id"]
    http.patch(f"/api/needs/{need}/", {"weight": 2}, content_type="application/json")
    http.patch(f"/api/needs/{need}/", {"weight": 2}, content_type="application/json")
    http.delete(f"/api/needs/{need}/")
    changes = list(NeedChange.objects.order_by("pk"))
    assert [(len(c.before), len(c.after)) for c in changes] == [(0, 1), (1, 1), (1, 0)]
    assert {c.changed_by for c in changes} == {kam}


def test_the_admin_records_a_change_of_needs(client_as, administrator: User, account_of_kam):
    need = NeedFactory(client=account_of_kam, name="Quality", weight=5)
    answer = client_as(administrator).post(
        f"/admin/accounts/clientneed/{need.pk}/change/",
        {"client": account_of_kam.pk, "name": "Quality", "weight": "1", "_save": "Save"},
    )
    assert answer.status_code == 302
    assert NeedChange.objects.get().changed_by == administrator


def test_an_open_proposal_and_the_scorecard_say_the_needs_changed_since_and_by_whom(
    client_as, kam: User, chair: User, account_of_kam: Client
):
    CommitteeMember.objects.create(
        user=chair, committee_role="executive_director", is_chair=True, active_from="2025-01-01"
    )
    meets_the_ruler(account_of_kam)
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    page = client_as(chair).get(proposal.get_absolute_url())
    assert 'data-testid="needs-changed"' not in page.text

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        client_as(kam).patch(
            f"/api/needs/{account_of_kam.needs.get().pk}/",
            {"weight": 1},
            content_type="application/json",
        )
    page = client_as(chair).get(proposal.get_absolute_url()).text
    assert "needs changed since the evidence was frozen" in page
    assert str(kam) in page
    api = client_as(chair).get(f"/api/proposals/{proposal.pk}/").json()
    assert [c["changed_by"] for c in api["needs_changed_since_evidence"]] == [str(kam)]
    card = client_as(chair).get(reverse("criteria:scorecard", args=[account_of_kam.pk])).text
    assert 'data-testid="needs-changed"' in card
    assert str(kam) in card


def test_someone_elses_edit_is_named_as_theirs(client_as) -> None:
    client = Client.objects.create(name="Far LLC", registration_number="7700000001")
    other = UserFactory(username="other-admin", is_staff=True, is_superuser=True)
    NeedFactory(client=client, name="Speed", weight=4)
    client_as(other).post(
        f"/admin/accounts/clientneed/{client.needs.get().pk}/delete/", {"post": "yes"}
    )
    assert NeedChange.objects.get().changed_by == other
