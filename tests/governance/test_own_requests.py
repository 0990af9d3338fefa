"""Nobody decides, approves or closes their own request, at any tier: a member stands aside by
rule on a proposal about their own account, mandate or seat (no vote, out of the base, no early
close); nobody allocates a budget to a client they work; the KAM who declared an incident does
not take or close it. Each refusal is a 403 that says why, on the page and in the API."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, User
from accounts.refusals import NotAllowed
from accounts.roles import Role
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    proposals_with_tally,
    tally_of,
    vote_cast,
)
from governance.kpis.figures import kpi_entry_record, kpi_targets_save
from governance.models import (
    Budget,
    CommitteeMember,
    IncidentState,
    KpiEntry,
    Proposal,
    ProposalType,
)
from governance.recipients import entitled_members
from governance.shell.budgets import budget_allocate
from governance.shell.departments import department_fulfil, department_request
from governance.shell.incidents import incident_close, incident_declare, incident_take
from governance.shell.mandates import mandate_adopt
from tests.factories import (
    ClientFactory,
    DepartmentObligationFactory,
    KpiFactory,
    KpiTargetFactory,
    MandateAccountFactory,
    MandateFactory,
    SituationTypeFactory,
    TeamMemberFactory,
    UserFactory,
    meets_the_ruler,
)

TODAY = datetime.date(2026, 11, 18)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(f"{TODAY}T12:00+03:00")]


@pytest.fixture
def committee(chair: User, member: User) -> list[User]:
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    for user, role in (
        (chair, "executive_director"),
        (member, "head_of_kam"),
        (third, "sales_director"),
    ):
        CommitteeMember.objects.create(
            user=user, committee_role=role, is_chair=user == chair, active_from=TODAY
        )
    return [chair, member, third]


def opened(by: User, **kwargs: object) -> Proposal:
    return proposal_open(
        proposal=proposal_create(title="Q", rationale="Why", by=by, **kwargs),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )


def assert_stands_aside(client_as, proposal: Proposal, who: User) -> None:
    """``who`` is out of the base, and the page and the API refuse their vote with a reason."""
    assert who not in entitled_members(proposal=proposal)
    annotated = proposals_with_tally(Proposal.objects.filter(pk=proposal.pk)).get()
    assert tally_of(annotated).base == tally_of(proposal).base == 2
    with pytest.raises(NotAllowed, match="concerns you"):
        vote_cast(proposal=proposal, member=who, choice="for")
    page = client_as(who).post(proposal.get_absolute_url(), {"choice": "for"})
    api = client_as(who).post(
        f"/api/proposals/{proposal.pk}/vote/", {"choice": "for"}, content_type="application/json"
    )
    assert page.status_code == 403
    assert api.status_code == 403
    assert "concerns you" in api.json()["detail"]
    assert not proposal.votes.exists()
    shown = client_as(who).get(proposal.get_absolute_url()).text
    assert 'data-testid="stands-aside"' in shown
    assert "Cast the vote" not in shown


@pytest.mark.parametrize("how", ["owner", "team"])
def test_a_member_stands_aside_on_a_proposal_about_a_client_they_work(
    client_as, committee: list[User], how: str
) -> None:
    _chair, member, third = committee
    client = ClientFactory(owner_kam=member if how == "owner" else None)
    if how == "team":
        TeamMemberFactory(client=client, user=member)
    meets_the_ruler(client)
    proposal = opened(third, type=ProposalType.GRANT_KEY, client=client)
    assert_stands_aside(client_as, proposal, member)


def test_a_member_stands_aside_on_a_proposal_about_their_own_seat(
    client_as, committee: list[User]
) -> None:
    chair, member, _third = committee
    proposal = opened(chair, type=ProposalType.SEAT_END, nominee=member)
    assert_stands_aside(client_as, proposal, member)


def test_a_member_stands_aside_on_the_grant_of_their_own_mandate(
    client_as, committee: list[User]
) -> None:
    chair, member, _third = committee
    mandate = MandateFactory(kam=member)
    proposal = opened(chair, type=ProposalType.GRANT_MANDATE, mandate=mandate)
    assert_stands_aside(client_as, proposal, member)


def test_the_chair_does_not_close_early_a_vote_about_their_own_account(
    client_as, committee: list[User]
) -> None:
    chair, member, third = committee
    client = ClientFactory(owner_kam=chair)
    meets_the_ruler(client)
    proposal = opened(member, type=ProposalType.GRANT_KEY, client=client)
    for voter in (member, third):
        vote_cast(proposal=proposal, member=voter, choice="for")
    page = client_as(chair).get(proposal.get_absolute_url())
    assert "/close/" not in page.text
    answer = client_as(chair).post(f"/committee/proposals/{proposal.pk}/close/")
    assert answer.status_code == 403
    with pytest.raises(NotAllowed, match="concerns them"):
        proposal_close(proposal=proposal, early=True, by=chair)
    proposal.refresh_from_db()
    assert proposal.is_open
    # The beat still closes it at the deadline: that is nobody's decision.
    assert proposal_close(proposal=proposal, early=True).state == "adopted"


@pytest.mark.parametrize("how", ["owner", "team", "mandate"])
def test_nobody_allocates_a_budget_to_a_client_they_work(
    client_as, committee: list[User], how: str
) -> None:
    _chair, member, _third = committee
    client = ClientFactory(is_key=True, owner_kam=member if how == "owner" else None)
    if how == "team":
        TeamMemberFactory(client=client, user=member)
    if how == "mandate":
        MandateAccountFactory(mandate=MandateFactory(kam=member), client=client)
    data = {"client": client.pk, "period": TODAY.isoformat(), "allocated": "5000"}
    page = client_as(member).post(reverse("governance:budget-list"), data)
    api = client_as(member).post("/api/budgets/", data, content_type="application/json")
    assert page.status_code == 403
    assert api.status_code == 403
    assert "work this client yourself" in api.json()["detail"]
    with pytest.raises(NotAllowed):
        budget_allocate(client=client, period=TODAY, allocated=Decimal(1), by=member)
    assert not Budget.objects.exists()
    # Another member, who does not work the client, allocates.
    assert client_as(committee[2]).post("/api/budgets/", data, content_type="application/json")
    assert Budget.objects.filter(client=client).exists()


def test_the_kam_who_declared_an_incident_does_not_take_or_close_it(
    client_as, kam: User, account_of_kam: Client
) -> None:
    mandate = MandateFactory(kam=kam)
    MandateAccountFactory(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    situation = SituationTypeFactory(owner=kam)  # the playbook names the KAM as its owner
    incident = incident_declare(
        kam=kam, client_id=account_of_kam.pk, situation=situation, description="Defects"
    )
    http = client_as(kam)
    for step in ("take", "close"):
        page = http.post(f"/committee/incidents/{incident.pk}/{step}/", {"text": "Done"})
        api = http.post(
            f"/api/incidents/{incident.pk}/{step}/",
            {"text": "Done"},
            content_type="application/json",
        )
        assert page.status_code == 403
        assert api.status_code == 403
    with pytest.raises(NotAllowed, match="they declared"):
        incident_take(incident=incident, by=kam)
    with pytest.raises(NotAllowed, match="they declared"):
        incident_close(incident=incident, by=kam, resolution="Done")
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_nobody_sets_the_targets_or_records_the_actuals_they_are_measured_by(
    client_as, committee: list[User]
) -> None:
    """A member who also holds a mandate: the committee's permissions, but not over their own
    targets and actuals — page and API."""
    _chair, member, third = committee
    mandate = mandate_adopt(mandate=MandateFactory(kam=member))
    target = KpiTargetFactory(mandate=mandate)
    manual = KpiFactory(unit="percent", source="manual")
    http = client_as(member)
    patch = http.patch(
        f"/api/kpi-targets/{target.pk}/", {"target": "1"}, content_type="application/json"
    )
    delete = http.delete(f"/api/kpi-targets/{target.pk}/")
    create = http.post(
        "/api/kpi-targets/",
        {"kpi": target.kpi_id, "mandate": mandate.pk, "period": "2026-10-01", "target": "5"},
        content_type="application/json",
    )
    entry = {"kpi": manual.pk, "period": "2026-07-01", "kam": member.pk, "value": "99"}
    api_entry = http.post("/api/kpi-entries/", entry, content_type="application/json")
    page_entry = http.post(reverse("governance:kpi-entries"), entry)
    assert [r.status_code for r in (patch, delete, create)] == [403] * 3
    assert "your own mandate" in patch.json()["detail"]
    # A member is not among the KAMs the entry forms offer; the service refuses them anyway.
    assert api_entry.status_code in (400, 403, 404)
    assert page_entry.status_code in (200, 403)
    with pytest.raises(NotAllowed, match="measured by"):
        kpi_entry_record(
            kpi=manual,
            period=datetime.date(2026, 7, 1),
            kam=member,
            client=None,
            value=Decimal(99),
            note="",
            by=member,
        )
    with pytest.raises(NotAllowed):
        kpi_targets_save(mandate=mandate, by=member, rows=[])
    target.refresh_from_db()
    assert target.target == 100
    assert not KpiEntry.objects.exists()
    # Another member sets them.
    other = client_as(third).patch(
        f"/api/kpi-targets/{target.pk}/", {"target": "1"}, content_type="application/json"
    )
    assert other.status_code == 200


def test_the_kam_does_not_mark_their_own_department_request_fulfilled(
    client_as, kam: User, account_of_kam: Client
) -> None:
    mandate = MandateFactory(kam=kam)
    MandateAccountFactory(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    obligation = DepartmentObligationFactory(owner=kam)  # the KAM owns the obligation too
    item = department_request(
        kam=kam, obligation=obligation, client_id=account_of_kam.pk, text="Ship"
    )
    http = client_as(kam)
    page = http.post(f"/committee/departments/{item.pk}/fulfil/")
    api = http.post(f"/api/department-requests/{item.pk}/fulfil/")
    assert (page.status_code, api.status_code) == (403, 403)
    with pytest.raises(NotAllowed, match="their own request"):
        department_fulfil(request=item, by=kam)
    item.refresh_from_db()
    assert item.fulfilled_at is None
