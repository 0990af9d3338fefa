"""An exception escalated to the committee's tier is decided by the committee's vote on a
proposal, never by one person (the chair included); the KAM who asked stands aside."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from governance.committee.exceptions import ExceptionNotOpen
from governance.committee.proposals import (
    NotEntitled,
    ProposalNotOpen,
    proposal_close,
    proposal_create,
    proposal_open,
    proposals_close_due,
    vote_cast,
)
from governance.models import (
    Approver,
    CommitteeMember,
    Decision,
    EscalationTier,
    ExceptionRequest,
    ExceptionState,
    Mandate,
    MandateAccount,
    OutgoingMail,
    Proposal,
    ProposalState,
    ProposalType,
    RecordEntry,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from governance.recipients import entitled_members
from governance.shell.exception_requests import (
    AlreadyDecided,
    CommitteeDecides,
    TermsChanged,
    exception_decide,
    exception_file,
    exception_withdraw,
    exceptions_escalate_overdue,
)
from governance.shell.mandates import mandate_adopt
from tests.factories import AbsenceFactory, UserFactory

pytestmark = pytest.mark.django_db

COMMITTEE_DECIDES = "the committee decides it by a vote, not one person"


@pytest.fixture
def third(db: None) -> User:
    return UserFactory(username="third", first_name="Tamara", last_name="Third")


@pytest.fixture
def setup(kam, chair, member, third, account_of_kam) -> Mandate:
    """Deals up to 1 M: the head of KAM; up to 5 M: the sales director; beyond: the
    committee. Three members sit: the chair, the sales director and a commercial director."""
    EscalationTier.objects.create(
        order=1, up_to_deal_value=1_000_000, approver=Approver.HEAD_OF_KAM
    )
    EscalationTier.objects.create(
        order=2, up_to_deal_value=5_000_000, approver=Approver.SALES_DIRECTOR
    )
    EscalationTier.objects.create(order=3, up_to_deal_value=None, approver=Approver.COMMITTEE)
    since = datetime.date(2025, 1, 1)
    CommitteeMember.objects.create(
        user=chair, committee_role="executive_director", is_chair=True, active_from=since
    )
    CommitteeMember.objects.create(user=member, committee_role="sales_director", active_from=since)
    CommitteeMember.objects.create(
        user=third, committee_role="commercial_director", active_from=since
    )
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=since,
        max_discount_percent=Decimal(7),
        max_deal_value=Decimal(500_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def _file(kam: User, client, deal: str = "20000000") -> ExceptionRequest:
    return exception_file(
        kam=kam,
        client_id=client.pk,
        asked={"discount_percent": Decimal(9), "deal_value": Decimal(deal)},
        justification="Three-year contract",
        deal="Rails 2027",
    )


def _propose(request: ExceptionRequest, by: User) -> Proposal:
    proposal = proposal_create(
        type=ProposalType.DECIDE_EXCEPTION,
        rationale="The contract pays for the discount.",
        by=by,
        exception_request=request,
    )
    return proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=7))


@pytest.fixture
def big(kam, account_of_kam, setup) -> ExceptionRequest:
    request = _file(kam, account_of_kam)
    assert request.approver == Approver.COMMITTEE
    return request


# One person never decides at the committee's tier -------------------------------------------


def test_nobody_alone_decides_at_the_committee_tier(big, chair, member, third, kam2):
    # The chair decides every other tier; a member standing in as the chair's deputy neither.
    AbsenceFactory(
        user=chair,
        deputy=member,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    for person in (chair, member, third):
        with pytest.raises(CommitteeDecides, match=COMMITTEE_DECIDES):
            exception_decide(request=big, by=person, approve=True)
    big.refresh_from_db()
    assert (big.state, big.decided_by, big.decided_in) == (ExceptionState.PENDING, None, None)


def test_a_request_escalated_meanwhile_is_refused_with_the_same_message(
    kam, member, account_of_kam, setup
):
    request = _file(kam, account_of_kam, deal="3000000")  # the sales director's tier
    assert request.approver == Approver.SALES_DIRECTOR
    later = timezone.now() + datetime.timedelta(days=3)
    assert exceptions_escalate_overdue(now=later) == 1
    # The member's page still shows the tier it left: the update refuses all the same.
    with pytest.raises(CommitteeDecides):
        exception_decide(request=request, by=member, approve=True)
    request.refresh_from_db()
    assert (request.state, request.approver) == (ExceptionState.PENDING, Approver.COMMITTEE)


ROLES = ("chair", "member", "kam", "kam2", "director", "administrator", "outsider")
# What each role gets when it tries to approve a committee-tier request alone: the page, then
# the API. The request stays pending in every case.
PAGE_ANSWERS = {
    "chair": (302, COMMITTEE_DECIDES),
    "member": (302, COMMITTEE_DECIDES),
    "director": (302, COMMITTEE_DECIDES),
    "administrator": (302, COMMITTEE_DECIDES),
    "kam": (403, None),  # their own request
    "kam2": (404, None),  # not theirs to see
    "outsider": (404, None),
}
API_ANSWERS = {
    "chair": (403, COMMITTEE_DECIDES),
    "member": (403, COMMITTEE_DECIDES),
    "director": (403, COMMITTEE_DECIDES),
    "administrator": (403, COMMITTEE_DECIDES),
    "kam": (403, "Nobody decides their own request"),
    "kam2": (404, None),
    "outsider": (403, None),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_trying_to_decide_alone_is_refused_on_the_page_and_the_api(
    role, cast, big, client_as
):
    http = client_as(cast[role])
    page = http.post(
        reverse("governance:exception-decide", args=[big.pk]), {"decision": "approve"}, follow=False
    )
    status, words = PAGE_ANSWERS[role]
    assert page.status_code == status
    if status == 302:
        assert page.url == big.get_absolute_url()
        shown = http.get(page.url)
        assert words in shown.text
        assert 'data-testid="open-proposal"' not in shown.text
    api = http.post(
        f"/api/exception-requests/{big.pk}/decide/",
        {"approve": True},
        content_type="application/json",
    )
    status, words = API_ANSWERS[role]
    assert api.status_code == status
    if words:
        assert words in api.json()["detail"]
    big.refresh_from_db()
    assert big.state == ExceptionState.PENDING


def test_the_lower_tiers_are_decided_as_before(kam, chair, account_of_kam, setup):
    small = _file(kam, account_of_kam, deal="800000")
    assert small.approver == Approver.HEAD_OF_KAM
    decided = exception_decide(request=small, by=chair, approve=True)
    assert (decided.state, decided.decided_by, decided.decided_in) == (
        ExceptionState.APPROVED,
        chair,
        None,
    )


# The committee's vote decides -----------------------------------------------------------------


def _vote_all(proposal: Proposal, choice: str, *members: User) -> None:
    for person in members:
        vote_cast(proposal=proposal, member=person, choice=choice)


def test_an_adopted_proposal_approves_the_request_as_the_committee_s_decision(
    big, chair, member, third
):
    crm = WebhookEndpoint.objects.create(
        name="CRM",
        url="https://crm.example.com/skam",
        secret="s3cret",
        events=list(WebhookEventType.values),
    )
    proposal = _propose(big, by=member)
    assert proposal.title == "Decide an exception: Volga Steel Works JSC, asked by " + str(
        big.requested_by
    )
    _vote_all(proposal, "for", chair, member, third)

    closed = proposal_close(proposal=proposal)

    big.refresh_from_db()
    assert closed.state == ProposalState.ADOPTED
    assert (big.state, big.decided_by, big.decided_in) == (ExceptionState.APPROVED, None, closed)
    assert big.decided_at is not None
    decision = Decision.objects.get(proposal=closed)
    assert decision.kind == ProposalType.DECIDE_EXCEPTION
    assert decision.subject["exception"]["id"] == big.pk
    assert decision.digest
    [decided] = [
        event.payload
        for event in WebhookEvent.objects.filter(type=WebhookEventType.EXCEPTION_DECIDED)
    ]
    assert decided["state"] == ExceptionState.APPROVED
    assert (decided["decided_by"], decided["decided_in"]) == (None, closed.pk)
    assert crm.pk


def test_a_rejected_proposal_rejects_the_request(big, chair, member, third):
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "against", chair, member, third)
    closed = proposal_close(proposal=proposal)
    big.refresh_from_db()
    assert closed.state == ProposalState.REJECTED
    assert (big.state, big.decided_in, big.decided_by) == (ExceptionState.REJECTED, closed, None)
    assert not Decision.objects.filter(proposal=closed).exists()


def test_a_vote_without_quorum_decides_nothing_and_another_proposal_may_follow(big, chair, member):
    proposal = _propose(big, by=chair)
    with transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk).update(
            deadline=timezone.now() - datetime.timedelta(minutes=1)
        )
    closed = proposal_close(proposal=Proposal.objects.get(pk=proposal.pk))
    big.refresh_from_db()
    assert closed.state == ProposalState.LAPSED
    assert big.state == ExceptionState.PENDING
    again = _propose(big, by=member)
    assert again.state == ProposalState.OPEN


def test_opening_freezes_what_is_asked_and_a_changed_request_is_not_decided(
    big, chair, member, third
):
    proposal = _propose(big, by=chair)
    assert proposal.version_content["asked"] == {"discount_percent": "9", "deal_value": "20000000"}
    assert proposal.version_content["deal"] == "Rails 2027"
    assert len(proposal.version_digest) == 64
    _vote_all(proposal, "for", chair, member, third)
    # Changed behind the services' back (no path of SKAM edits a request's terms).
    ExceptionRequest.objects.filter(pk=big.pk).update(asked={"discount_percent": "30"})

    with pytest.raises(TermsChanged):
        proposal_close(proposal=proposal)

    proposal.refresh_from_db()
    big.refresh_from_db()
    assert (proposal.state, big.state) == (ProposalState.OPEN, ExceptionState.PENDING)


def test_the_kam_who_asked_stands_aside_even_with_a_seat(kam, account_of_kam, setup, chair):
    CommitteeMember.objects.create(
        user=kam, committee_role="head_of_kam", active_from=datetime.date(2025, 1, 1)
    )
    request = _file(kam, account_of_kam)
    with pytest.raises(ValidationError, match="your own request"):
        proposal_create(
            type=ProposalType.DECIDE_EXCEPTION, rationale="Mine", by=kam, exception_request=request
        )
    proposal = _propose(request, by=chair)
    assert kam not in entitled_members(proposal=proposal)
    with pytest.raises(NotEntitled, match="your request"):
        vote_cast(proposal=proposal, member=kam, choice="for")
    with pytest.raises(PermissionDenied):
        proposal_close(proposal=proposal, early=True, by=kam)


def test_only_a_committee_tier_request_still_pending_is_proposed(
    kam, chair, member, account_of_kam, setup
):
    small = _file(kam, account_of_kam, deal="800000")
    with pytest.raises(ValidationError, match="committee's tier"):
        proposal_create(
            type=ProposalType.DECIDE_EXCEPTION, rationale="?", by=chair, exception_request=small
        )
    with pytest.raises(ValidationError, match="Name the exception request"):
        proposal_create(type=ProposalType.DECIDE_EXCEPTION, rationale="?", by=chair)
    big = _file(kam, account_of_kam)
    draft = proposal_create(
        type=ProposalType.DECIDE_EXCEPTION, rationale="?", by=chair, exception_request=big
    )
    exception_withdraw(request=big, by=kam)
    with pytest.raises(ExceptionNotOpen, match="no longer waiting"):
        proposal_open(proposal=draft, deadline=timezone.now() + datetime.timedelta(days=1))


def test_one_open_proposal_per_request(big, chair, member):
    first = _propose(big, by=chair)
    second = proposal_create(
        type=ProposalType.DECIDE_EXCEPTION, rationale="Again", by=member, exception_request=big
    )
    with pytest.raises(ExceptionNotOpen, match="already before the committee"):
        proposal_open(proposal=second, deadline=timezone.now() + datetime.timedelta(days=1))
    # The database holds the line whatever path writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.filter(pk=second.pk).update(state=ProposalState.OPEN)
    assert first.state == ProposalState.OPEN


def test_withdrawing_the_request_withdraws_its_proposal(big, kam, chair, member):
    proposal = _propose(big, by=chair)
    exception_withdraw(request=big, by=kam)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.WITHDRAWN
    with pytest.raises(ProposalNotOpen):
        vote_cast(proposal=proposal, member=member, choice="for")


def test_a_request_decided_meanwhile_refuses_the_close(big, chair, member, third):
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "for", chair, member, third)
    ExceptionRequest.objects.filter(pk=big.pk).update(state=ExceptionState.REJECTED)
    with pytest.raises(AlreadyDecided):
        proposal_close(proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.OPEN


# Pages ------------------------------------------------------------------------------------------


def test_a_member_is_offered_to_propose_not_to_approve(big, member, client_as):
    listing = client_as(member).get(reverse("governance:exception-list")).text
    row = listing.split('data-testid="exceptions"')[1]
    assert 'data-testid="propose-exception"' in row
    assert f"?exception_request={big.pk}" in row
    assert 'value="approve"' not in row
    detail = client_as(member).get(big.get_absolute_url()).text
    assert 'data-testid="propose-exception"' in detail and 'value="approve"' not in detail


def test_once_proposed_the_request_links_its_proposal_everywhere(
    big, chair, member, kam, client_as
):
    proposal = _propose(big, by=chair)
    link = reverse("governance:proposal-detail", args=[proposal.pk])
    for page in (reverse("governance:exception-list"), big.get_absolute_url()):
        text = client_as(member).get(page).text
        assert link in text and 'data-testid="propose-exception"' not in text
    mandate_page = client_as(member).get(
        reverse("governance:mandate-detail", args=[big.mandate_id])
    )
    assert link in mandate_page.text
    # The KAM reads that the committee's vote decides; proposals are not theirs to open.
    own = client_as(kam).get(reverse("governance:my-mandate")).text
    assert "Before the committee: its vote decides" in own
    assert link not in own and 'data-testid="propose-exception"' not in own


def test_the_request_page_says_the_committee_decided(big, chair, member, third, kam, client_as):
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "for", chair, member, third)
    proposal_close(proposal=proposal)
    page = client_as(kam).get(big.get_absolute_url()).text
    assert "Approved" in page and "The committee, by its vote" in page
    table = client_as(kam).get(reverse("governance:my-mandate")).text
    assert "The committee, by its vote" in table
    proposal_page = client_as(member).get(proposal.get_absolute_url()).text
    assert 'data-testid="exception-terms"' in proposal_page
    assert proposal.version_digest in proposal_page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("chair", 200),
        ("member", 200),
        ("kam", 200),
        ("kam2", 404),
        ("director", 200),
        ("administrator", 200),
        ("outsider", 404),
    ],
)
def test_who_reads_the_request_page(role, status, cast, big, client_as):
    assert client_as(cast[role]).get(big.get_absolute_url()).status_code == status


# The new-proposal flow ------------------------------------------------------------------------


def test_the_new_proposal_flow_puts_a_request_to_the_committee(big, member, client_as):
    http = client_as(member)
    assert "Decide an exception" in http.get(reverse("governance:proposal-new")).text
    url = reverse("governance:proposal-new-question", args=[ProposalType.DECIDE_EXCEPTION])
    page = http.get(url, {"exception_request": big.pk}).text
    assert 'data-testid="chosen-exception"' in page
    assert "Decide an exception: Volga Steel Works JSC, asked by" in page  # the title suggested
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    opened = http.post(
        url,
        {
            "exception_request": big.pk,
            "title": "Exception for Volga",
            "rationale": "Worth it",
            "deadline": deadline,
        },
    )
    proposal = Proposal.objects.get(exception_request=big)
    assert opened.status_code == 302 and opened.url == proposal.get_absolute_url()
    assert proposal.state == ProposalState.OPEN
    # Proposed already: it is no longer offered, and a link to propose it leads to its proposal.
    assert f'<option value="{big.pk}"' not in http.get(url).text
    again = http.get(url, {"exception_request": big.pk})
    assert again.status_code == 302 and again.url == proposal.get_absolute_url()
    for odd in ("abc", "9" * 40, "١٢"):
        assert http.get(url, {"exception_request": odd}).status_code == 200


@pytest.mark.parametrize(
    ("role", "status"),
    [("kam", 403), ("kam2", 403), ("director", 403), ("administrator", 403), ("outsider", 403)],
)
def test_only_the_committee_proposes(role, status, cast, big, client_as):
    url = reverse("governance:proposal-new-question", args=[ProposalType.DECIDE_EXCEPTION])
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    answer = client_as(cast[role]).post(
        url, {"exception_request": big.pk, "title": "T", "rationale": "R", "deadline": deadline}
    )
    assert answer.status_code == status
    assert not Proposal.objects.exists()


def test_the_api_names_the_request_a_proposal_decides(big, chair, member, client_as):
    proposal = _propose(big, by=chair)
    answer = client_as(member).get(f"/api/proposals/{proposal.pk}/").json()
    assert (answer["type"], answer["exception_request"]) == ("decide_exception", big.pk)
    decided = client_as(member).get(f"/api/exception-requests/{big.pk}/").json()
    assert decided["state"] == ExceptionState.PENDING


def test_the_api_says_the_committee_decided(big, chair, member, third, kam, client_as):
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "for", chair, member, third)
    proposal_close(proposal=proposal)
    answer = client_as(kam).get(f"/api/exception-requests/{big.pk}/").json()
    assert (answer["state"], answer["decided_by"], answer["decided_in"]) == (
        ExceptionState.APPROVED,
        None,
        proposal.pk,
    )


VOTES = {
    "chair": 200,
    "member": 200,
    "kam": 403,  # asked for it: stands aside, and holds no seat besides
    "kam2": 403,
    "director": 403,
    "administrator": 403,
    "outsider": 403,
}


@pytest.mark.parametrize("role", ROLES)
def test_who_votes_on_a_proposal_to_decide_an_exception(role, cast, big, chair, client_as):
    proposal = _propose(big, by=chair)
    http = client_as(cast[role])
    api = http.post(
        f"/api/proposals/{proposal.pk}/vote/", {"choice": "for"}, content_type="application/json"
    )
    assert api.status_code == VOTES[role]
    page = http.post(proposal.get_absolute_url(), {"choice": "against", "comment": ""})
    assert page.status_code == (302 if VOTES[role] == 200 else 403)
    big.refresh_from_db()
    assert big.state == ExceptionState.PENDING  # only the close decides


def test_the_close_at_the_deadline_decides_the_request(big, chair, member, third):
    """The beat's task closes proposals past their deadline through the same service."""
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "against", member, third)
    later = timezone.now() + datetime.timedelta(days=8)
    assert proposals_close_due(now=later) == 1
    big.refresh_from_db()
    assert (big.state, big.decided_in_id) == (ExceptionState.REJECTED, proposal.pk)


def test_the_admin_offers_no_way_around_the_vote():
    """Neither requests nor proposals are written in the admin: only the services decide."""
    for model in (ExceptionRequest, Proposal):
        model_admin = admin.site._registry.get(model)
        assert model_admin is None or not (
            model_admin.has_add_permission(None) or model_admin.has_change_permission(None)
        )


def test_the_committee_is_told_to_propose_not_to_decide(big, member):
    letter = OutgoingMail.objects.get(key__startswith=f"exception-filed:{big.pk}:", to=member.email)
    assert "a member proposes it to the committee" in letter.body
    assert big.get_absolute_url() in letter.body


def _decided_by_the_committee(kam, client, chair, member, third) -> ExceptionRequest:
    request = _file(kam, client)
    proposal = proposal_create(  # no title typed: it is said from its subject
        type=ProposalType.DECIDE_EXCEPTION, rationale="R", by=chair, exception_request=request
    )
    proposal = proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(1))
    _vote_all(proposal, "for", chair, member, third)
    proposal_close(proposal=proposal)
    return request


def test_the_lists_cost_no_query_per_request_the_committee_decided(
    kam, chair, member, third, account_of_kam, setup, client_as
):
    http = client_as(member)
    pages = [
        reverse("governance:exception-list") + "?state=approved",
        reverse("governance:mandate-detail", args=[setup.pk]),
    ]
    _decided_by_the_committee(kam, account_of_kam, chair, member, third)
    counts = []
    for _round in range(2):
        with CaptureQueriesContext(connection) as queries:
            for page in pages:
                assert "The committee, by its vote" in http.get(page).text
        counts.append(len(queries))
        for _more in range(3):
            _decided_by_the_committee(kam, account_of_kam, chair, member, third)
    assert counts[0] == counts[1]


def test_the_record_keeps_the_committee_s_decision_of_the_request(big, chair, member, third):
    proposal = _propose(big, by=chair)
    _vote_all(proposal, "for", chair, member, third)
    proposal_close(proposal=proposal)
    entries = RecordEntry.objects.filter(
        table_name=ExceptionRequest._meta.db_table, row_pk=str(big.pk)
    ).order_by("pk")
    decided = entries.last()
    assert decided.operation == "U"
    assert (decided.before["state"], decided.after["state"]) == ("pending", "approved")
    assert (decided.before["decided_in_id"], decided.after["decided_in_id"]) == (None, proposal.pk)
    opened = RecordEntry.objects.filter(
        table_name=Proposal._meta.db_table, row_pk=str(proposal.pk), operation="U"
    ).order_by("pk")
    assert any(e.after["exception_request_id"] == big.pk for e in opened)
