"""Voting, as a member reads it: the proposal page goes evidence, tally, vote; changing a vote
starts from the vote cast; the chair is told why the vote cannot be closed yet; "needs my vote"
on the home page and the proposal list, whose rows carry the tally, my vote and coverage."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from criteria.models import RulerStatus, RulerVersion
from governance.committee.proposals import proposal_create, proposal_open, vote_cast
from governance.models import CommitteeMember, CommitteeRole, Proposal
from tests.factories import ClientFactory, UserFactory, meets_the_ruler

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def committee(chair, member):
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    for user, role, is_chair in (
        (chair, CommitteeRole.EXECUTIVE_DIRECTOR, True),
        (member, CommitteeRole.SALES_DIRECTOR, False),
        (third, CommitteeRole.HEAD_OF_KAM, False),
    ):
        CommitteeMember.objects.create(
            user=user, committee_role=role, is_chair=is_chair, active_from=datetime.date(2025, 1, 1)
        )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    return {"chair": chair, "member": member, "third": third}


def opened(by, name: str) -> Proposal:
    client = ClientFactory(name=name)
    meets_the_ruler(client)
    proposal = proposal_create(
        type="grant_key", title=f"Key status for {name}", rationale="Fits.", by=by, client=client
    )
    return proposal_open(proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3))


def test_the_page_reads_evidence_then_tally_then_the_vote(client_as, committee) -> None:
    proposal = opened(committee["chair"], "Alpha LLC")

    page = client_as(committee["member"]).get(proposal.get_absolute_url()).text

    assert (
        page.index('data-testid="evidence"') < page.index('id="tally"') < page.index('id="h-vote"')
    )


def test_the_tally_says_what_adopts_it_in_plain_words(client_as, committee) -> None:
    proposal = opened(committee["chair"], "Alpha LLC")
    http = client_as(committee["member"])

    page = http.get(proposal.get_absolute_url()).text
    vote_cast(proposal=proposal, member=committee["member"], choice="for")
    one_more = http.get(proposal.get_absolute_url()).text

    # The majority continues the sentence ("…; simple majority."), and "for" is not left to
    # read as a preposition ("2 more votes for adopt it").
    assert "Quorum 2 of 3 members; simple majority." in page
    assert "2 more votes in favour adopt it." in page
    assert "1 more vote in favour adopts it." in one_more


def test_changing_a_vote_starts_from_the_vote_cast(client_as, committee) -> None:
    proposal = opened(committee["chair"], "Alpha LLC")
    vote_cast(proposal=proposal, member=committee["member"], choice="against", comment="Too early")

    page = client_as(committee["member"]).get(proposal.get_absolute_url()).text

    assert "You voted: Against. Change your vote" in page
    checked = re.findall(r'<input type="radio" name="choice" value="(\w+)"[^>]*\bchecked', page)
    assert checked == ["against"]
    assert "Too early</textarea>" in page


def test_the_chair_is_told_why_there_is_no_close_button_yet(client_as, committee) -> None:
    proposal = opened(committee["member"], "Alpha LLC")
    http = client_as(committee["chair"])

    waiting = http.get(proposal.get_absolute_url()).text
    vote_cast(proposal=proposal, member=committee["member"], choice="for")
    vote_cast(proposal=proposal, member=committee["third"], choice="for")
    settled = http.get(proposal.get_absolute_url()).text

    assert "Close the vote: the outcome is settled" not in waiting
    assert (
        "You can close the vote once the outcome is settled: 3 members still to vote can change it."
        in waiting
    )
    assert "Otherwise it closes by itself at 11/21/2026" in waiting
    assert "Close the vote: the outcome is settled" in settled
    assert 'data-testid="close-waits"' not in settled


def test_the_list_shows_tally_my_vote_coverage_and_what_needs_my_vote(client_as, committee) -> None:
    voted = opened(committee["chair"], "Alpha LLC")
    waiting = opened(committee["chair"], "Beta LLC")
    vote_cast(proposal=voted, member=committee["member"], choice="for")
    http = client_as(committee["member"])

    response = http.get(reverse("governance:proposal-list"))
    rows = {row["proposal"].pk: row for row in response.context["rows"]}
    mine = http.get(reverse("governance:proposal-list"), {"mine": "1"})

    assert rows[voted.pk]["my_vote"] == "For"
    assert rows[voted.pk]["tally"].votes_for == 1 and rows[voted.pk]["tally"].base == 3
    assert rows[waiting.pk]["needs_my_vote"] and not rows[voted.pk]["needs_my_vote"]
    assert rows[waiting.pk]["coverage"] == "100.0"
    assert "1 · 0 · 0 of 3 members" in response.text
    assert "needs my vote" in response.text
    assert [row["proposal"].pk for row in mine.context["rows"]] == [waiting.pk]


def test_the_list_costs_the_same_queries_for_two_proposals_or_eight(
    client_as, committee, django_assert_max_num_queries
) -> None:
    for name in ("A", "B"):
        opened(committee["chair"], name)
    http = client_as(committee["member"])
    with django_assert_max_num_queries(50) as two:
        http.get(reverse("governance:proposal-list"))
    for name in ("C", "D", "E", "F", "G", "H"):
        vote_cast(
            proposal=opened(committee["chair"], name), member=committee["member"], choice="for"
        )
    with django_assert_max_num_queries(len(two.captured_queries)):
        http.get(reverse("governance:proposal-list"))


def test_the_home_page_lists_what_needs_my_vote_with_deadlines(
    client_as, committee, director
) -> None:
    proposal = opened(committee["chair"], "Alpha LLC")
    vote_cast(
        proposal=opened(committee["chair"], "Beta LLC"), member=committee["member"], choice="for"
    )

    home = client_as(committee["member"]).get(reverse("home")).text
    directors = client_as(director).get(reverse("home")).text

    block = home.split('data-testid="needs-my-vote"')[1].split("</section>")[0]
    assert "1 proposal needs your vote" in block
    assert proposal.title in block and "Beta LLC" not in block
    assert "votes close 11/21/2026" in block
    assert 'data-testid="needs-my-vote"' not in directors


def test_needs_my_vote_speaks_russian(client_as, committee) -> None:
    opened(committee["chair"], "Alpha LLC")
    http = client_as(committee["member"])
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})

    assert "1 предложение ждёт вашего голоса" in http.get(reverse("home")).text
    assert "Ждут моего голоса" in http.get(reverse("governance:proposal-list")).text
