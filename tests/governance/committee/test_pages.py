"""Committee pages: withdraw, stand aside, revisit a decision, filter the register."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.refusals import ChangedMeanwhile
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.models import CommitteeMember, Decision, Proposal, ProposalState, Recusal
from tests.factories import MandateFactory

pytestmark = pytest.mark.django_db


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


def test_the_proposer_withdraws_and_others_cannot(client_as, member, director, open_grant):
    url = reverse("governance:proposal-withdraw", args=[open_grant.pk])
    assert client_as(director).post(url).status_code == 403
    page = client_as(member).post(url, follow=True).text
    open_grant.refresh_from_db()
    assert open_grant.state == ProposalState.WITHDRAWN
    assert "The proposal is withdrawn" in page


def test_a_member_stands_aside_with_a_reason_and_the_vote_stops_counting(
    client_as, chair, open_grant
):
    vote_cast(proposal=open_grant, member=chair, choice="for")
    url = reverse("governance:proposal-recuse", args=[open_grant.pk])
    refused = client_as(chair).post(url, {"reason": " "}, follow=True).text
    assert "Say why you stand aside" in refused
    page = client_as(chair).post(url, {"reason": "Board seat at the client"}, follow=True)
    assert Recusal.objects.get(proposal=open_grant).reason == "Board seat at the client"
    assert 'data-testid="tally-for">0<' in page.text
    assert "Board seat at the client" in page.text


def test_revisiting_a_decision_opens_a_linked_proposal(client_as, chair, member, open_grant):
    for user in (chair, member):
        vote_cast(proposal=open_grant, member=user, choice="for")
    decision = proposal_close(proposal=open_grant, early=True).decision
    url = reverse("governance:decision-revisit", args=[decision.pk])
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    form = client_as(chair).get(url).text
    response = client_as(chair).post(
        url,
        {
            "type": "revoke_key",
            "client": decision.client_id,
            "title": "Revisit",
            "rationale": "Lost the tender",
            "deadline": deadline,
        },
    )

    assert "If adopted, the new decision supersedes this one" in form
    revisit = Proposal.objects.get(typed_title="Revisit")
    assert response.url == revisit.get_absolute_url()
    assert revisit.supersedes == decision
    assert revisit.type == "revoke_key" and revisit.client == decision.client


def test_the_revisit_page_is_the_question_form_prefilled(client_as, chair, member, open_grant):
    """Not the old generic form: the question (end the status, or hold it as a strategic bet),
    the decision's client fixed, a title suggested, and only the fields the question needs."""
    for user in (chair, member):
        vote_cast(proposal=open_grant, member=user, choice="for")
    decision = proposal_close(proposal=open_grant, early=True).decision
    url = reverse("governance:decision-revisit", args=[decision.pk])
    http = client_as(chair)

    page = http.get(url).text
    assert 'data-testid="proposal-form"' in page
    assert 'data-testid="revisit-questions"' in page
    assert f'href="{url}?type=strategic_bet"' in page
    assert "Revoke key status" in page.split('aria-current="page"')[1].split("</a>")[0]
    assert f'name="client" value="{decision.client_id}"' in page
    assert 'value="Revisit: ' in page  # the title, suggested from the decision
    assert 'name="ruler"' not in page and 'name="policy"' not in page
    assert 'name="type"' not in page and 'name="review_date"' not in page
    assert 'id="id_q"' not in page  # no other client to pick

    bet = http.get(url, {"type": "strategic_bet"}).text
    assert 'name="review_date"' in bet
    # A bet needs its review date: refused with the reason, nothing opened.
    deadline = (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    refused = http.post(
        f"{url}?type=strategic_bet",
        {"title": "Hold it", "rationale": "Strategic", "deadline": deadline},
    )
    assert refused.status_code == 200 and "This field is required." in refused.text
    assert not Proposal.objects.filter(supersedes=decision).exists()

    assert http.get(url, {"type": "adopt_ruler"}).status_code == 400
    assert http.get(url, {"type": "grant_key"}).status_code == 400  # the client is key already


def test_the_register_filters_by_client_and_type(
    client_as, chair, member, seats, account_of_kam, account_of_kam2
):
    for client in (account_of_kam, account_of_kam2):
        proposal = proposal_open(
            proposal=proposal_create(
                type="grant_key",
                title=f"Key {client.name}",
                rationale="Why",
                by=chair,
                client=client,
            ),
            deadline=timezone.now() + datetime.timedelta(days=2),
        )
        for user in seats:
            vote_cast(proposal=proposal, member=user, choice="for")
        proposal_close(proposal=proposal, early=True)
    assert Decision.objects.count() == 2

    page = (
        client_as(chair)
        .get(
            reverse("governance:decision-list"), {"client": account_of_kam2.pk, "type": "grant_key"}
        )
        .text
    )
    rows = page.split('data-testid="decisions"')[1]
    assert account_of_kam2.name in rows and account_of_kam.name not in rows


def test_a_draft_mandate_is_put_to_the_vote_once(client_as, chair, member, seats) -> None:
    """While one proposal grants a draft mandate, a second cannot open on it: the member is
    told why, and the second stays a draft."""
    mandate = MandateFactory()
    first = proposal_open(
        proposal=proposal_create(
            type="grant_mandate", title="Grant it", rationale="Why", by=member, mandate=mandate
        ),
        deadline=timezone.now() + datetime.timedelta(days=2),
    )
    second = proposal_create(
        type="grant_mandate", title="Grant it again", rationale="Why", by=member, mandate=mandate
    )

    with pytest.raises(ChangedMeanwhile, match="another proposal adopts it"):
        proposal_open(proposal=second, deadline=timezone.now() + datetime.timedelta(days=2))

    assert Proposal.objects.get(pk=second.pk).state == ProposalState.DRAFT
    assert Proposal.objects.get(pk=first.pk).state == ProposalState.OPEN
