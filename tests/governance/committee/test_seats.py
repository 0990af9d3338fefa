"""Seats on the committee and its chair change only by the committee's own decision; the first
set-up is done once, by a command that records who ran it; the admin shows seats read-only to
everyone, superusers included."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.committee.seats import CommitteeAlreadySetUp, SeatPlan, committee_setup
from governance.models import CommitteeMember, Proposal, ProposalState, ProposalType
from tests.factories import CommitteeMemberFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def committee(chair: User, member: User) -> list[User]:
    """Three seats: the chair, a member, and a third member."""
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    CommitteeMemberFactory(user=chair, is_chair=True, committee_role="executive_director")
    CommitteeMemberFactory(user=member, committee_role="sales_director")
    CommitteeMemberFactory(user=third, committee_role="commercial_director")
    return [chair, member, third]


def decided(by: User, voters: list[User], **kwargs: object) -> Proposal:
    proposal = proposal_open(
        proposal=proposal_create(title="Seat", rationale="Why", by=by, **kwargs),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )
    for voter in voters:
        if voter != kwargs.get("nominee"):  # who the proposal is about stands aside
            vote_cast(proposal=proposal, member=voter, choice="for")
    return proposal_close(proposal=proposal, early=True)


def groups_of(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_an_adopted_proposal_gives_a_seat_and_the_member_votes_from_then_on(
    committee: list[User], director: User
) -> None:
    proposal = decided(
        committee[0],
        committee,
        type=ProposalType.SEAT_GIVE,
        nominee=director,
        committee_role="head_of_kam",
    )
    assert proposal.state == ProposalState.ADOPTED
    seat = CommitteeMember.objects.get(user=director)
    assert (seat.committee_role, seat.is_chair, seat.given_by) == ("head_of_kam", False, proposal)
    assert Role.COMMITTEE_MEMBER in groups_of(director)


def test_an_adopted_proposal_ends_a_seat_and_takes_the_committee_role(
    committee: list[User],
) -> None:
    chair, _member, third = committee
    decided(chair, committee, type=ProposalType.SEAT_END, nominee=third)
    assert not CommitteeMember.objects.active_on(timezone.localdate()).filter(user=third).exists()
    assert CommitteeMember.objects.filter(user=third).exists()  # ended, not removed
    assert Role.COMMITTEE_MEMBER not in groups_of(third)


def test_the_chair_is_handed_by_a_decision_and_the_groups_follow(committee: list[User]) -> None:
    chair, member, _third = committee
    decided(chair, committee, type=ProposalType.CHAIR, nominee=member)
    today = timezone.localdate()
    assert CommitteeMember.objects.active_on(today).get(is_chair=True).user == member
    assert Role.COMMITTEE_CHAIR in groups_of(member)
    assert Role.COMMITTEE_CHAIR not in groups_of(chair)
    assert Role.COMMITTEE_MEMBER in groups_of(chair)


@pytest.mark.parametrize(
    ("type", "who", "role", "field"),
    [
        (ProposalType.SEAT_GIVE, "member", "head_of_kam", "nominee"),  # seated already
        (ProposalType.SEAT_GIVE, "director", "", "committee_role"),  # in no role
        (ProposalType.SEAT_GIVE, None, "head_of_kam", "nominee"),
        (ProposalType.SEAT_END, "director", "", "nominee"),  # holds no seat
        (ProposalType.SEAT_END, "chair", "", "nominee"),  # hand the chair first
        (ProposalType.CHAIR, "chair", "", "nominee"),  # chairs already
        (ProposalType.CHAIR, "director", "", "nominee"),  # holds no seat
    ],
)
def test_a_seat_proposal_that_cannot_apply_is_refused_on_its_field(
    committee: list[User], cast: dict[str, User], type: str, who: str | None, role: str, field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        proposal_create(
            type=type,
            title="Seat",
            rationale="Why",
            by=committee[0],
            nominee=cast[who] if who else None,
            committee_role=role,
        )
    assert field in refused.value.message_dict


def test_the_page_proposes_a_seat_which_the_votes_then_give(
    client_as, committee: list[User], director: User
) -> None:
    answer = client_as(committee[1]).post(
        "/committee/proposals/new/",
        {
            "type": ProposalType.SEAT_GIVE,
            "nominee": director.pk,
            "committee_role": "head_of_kam",
            "title": "Seat the finance director",
            "rationale": "Budgets need a voice on the committee.",
            "deadline": "2026-11-25T12:00",
        },
    )
    assert answer.status_code == 302
    proposal = Proposal.objects.get(nominee=director)
    assert proposal.state == ProposalState.OPEN
    for voter in committee:
        client_as(voter).post(proposal.get_absolute_url(), {"choice": "for"})
    client_as(committee[0]).post(f"/committee/proposals/{proposal.pk}/close/")
    assert CommitteeMember.objects.filter(user=director, given_by=proposal).exists()


def test_nobody_but_the_committee_proposes_a_seat(
    client_as, committee: list[User], administrator: User, director: User, kam: User
) -> None:
    for actor in (administrator, director, kam):
        answer = client_as(actor).post(
            "/committee/proposals/new/",
            {
                "type": ProposalType.SEAT_GIVE,
                "nominee": actor.pk,
                "committee_role": "head_of_kam",
                "title": "Seat me",
                "rationale": "I would like one",
                "deadline": "2026-11-25T12:00",
            },
        )
        assert answer.status_code == 403
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("actor", ["administrator", "superuser"])
def test_the_admin_shows_seats_read_only_even_to_a_superuser(
    client_as, committee: list[User], administrator: User, actor: str
) -> None:
    user = (
        administrator
        if actor == "administrator"
        else UserFactory(username="root", is_staff=True, is_superuser=True)
    )
    http = client_as(user)
    seat = CommitteeMember.objects.get(user=committee[1])
    form = {
        "user": user.pk,
        "committee_role": "sales_director",
        "is_chair": "on",
        "active_from": "2026-01-01",
        "_save": "Save",
    }
    assert http.post("/admin/governance/committeemember/add/", form).status_code == 403
    change = f"/admin/governance/committeemember/{seat.pk}/change/"
    assert http.post(change, form).status_code == 403
    delete = f"/admin/governance/committeemember/{seat.pk}/delete/"
    assert http.post(delete, {"post": "yes"}).status_code == 403
    seat.refresh_from_db()
    assert (seat.user, seat.is_chair) == (committee[1], False)
    assert not CommitteeMember.objects.filter(user=user).exists()


def test_the_first_set_up_records_who_ran_it_and_gives_the_groups(
    administrator: User, chair: User, member: User
) -> None:
    out = io.StringIO()
    call_command(
        "committee_setup",
        "--by=administrator",
        "--chair=chair",
        "--seat=chair:executive_director",
        "--seat=member:sales_director",
        stdout=out,
    )
    seats = CommitteeMember.objects.order_by("user__username")
    assert [(s.user, s.is_chair, s.set_up_by) for s in seats] == [
        (chair, True, administrator),
        (member, False, administrator),
    ]
    assert Role.COMMITTEE_CHAIR in groups_of(chair)


def test_the_set_up_names_who_runs_it(chair: User) -> None:
    with pytest.raises(CommandError):
        call_command("committee_setup", "--chair=chair", "--seat=chair:executive_director")
    assert not CommitteeMember.objects.exists()


def test_the_set_up_is_refused_once_any_seat_exists(
    committee: list[User], administrator: User, director: User
) -> None:
    with pytest.raises(CommandError, match="set up already"):
        call_command(
            "committee_setup",
            "--by=administrator",
            "--chair=director",
            "--seat=director:head_of_kam",
        )
    with pytest.raises(CommitteeAlreadySetUp):
        committee_setup(seats=[SeatPlan(director, "head_of_kam", True)], by=administrator)
    assert not CommitteeMember.objects.filter(user=director).exists()


@pytest.mark.parametrize(
    "seats",
    [
        ["--seat=chair:executive_director", "--seat=member:sales_director"],  # no chair named
        ["--seat=chair:nonsense"],
        ["--seat=nobody:sales_director"],
        [],
    ],
)
def test_a_bad_set_up_is_a_clear_error_not_a_half_committee(
    administrator: User, chair: User, member: User, seats: list[str]
) -> None:
    chair_arg = "--chair=nobody-at-all" if len(seats) == 2 else "--chair=chair"
    with pytest.raises(CommandError):
        call_command("committee_setup", "--by=administrator", chair_arg, *seats)
    assert not CommitteeMember.objects.exists()
