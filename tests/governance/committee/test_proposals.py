"""The strategic committee: votes and their history, the tally and its edges (quorum, ties,
abstentions, recusals, majorities, early close), the lifecycle of a proposal and the decision it
applies, the deadline closed by the beat, the REST contract, and races on PostgreSQL."""

from __future__ import annotations

import datetime
import itertools
import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Client, User
from accounts.roles import Role
from criteria.models import RulerStatus, RulerVersion
from criteria.services import ruler_draft_create
from governance.committee import proposals as services
from governance.committee.proposals import (
    NotEntitled,
    ProposalNotOpen,
    proposal_close,
    proposal_create,
    proposal_open,
    proposal_withdraw,
    proposals_close_due,
    recuse,
    tally_of,
    vote_cast,
)
from governance.committee.versions import VersionChanged
from governance.models import (
    DEFAULT_RULE,
    CommitteeMember,
    CommitteeRole,
    Decision,
    DecisionRule,
    Majority,
    Proposal,
    ProposalState,
    ProposalType,
    Tally,
    Vote,
    VoteChoice,
)
from governance.recipients import entitled_members
from governance.tasks import close_due_proposals
from tests.factories import ClientFactory, UserFactory, meets_the_ruler

FOR, AGAINST, ABSTAIN = VoteChoice.FOR, VoteChoice.AGAINST, VoteChoice.ABSTAIN
SIMPLE = DEFAULT_RULE
TWO_THIRDS = DecisionRule(quorum_percent=50, majority=Majority.TWO_THIRDS, abstentions_count=False)
UNANIMOUS = DecisionRule(quorum_percent=50, majority=Majority.UNANIMOUS, abstentions_count=False)

# Seats, deadlines and review dates count from today: the clock is set to noon in Moscow on
# a fixed day (time-machine), so that no test meets midnight halfway through.
pytestmark = pytest.mark.time_machine("2026-11-18T12:00+03:00")


# --- Helpers ---------------------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def seat(
    user: User,
    role: str = CommitteeRole.SALES_DIRECTOR,
    *,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    chair: bool = False,
) -> CommitteeMember:
    return CommitteeMember.objects.create(
        user=user,
        committee_role=role,
        is_chair=chair,
        active_from=since or today() - days(365),
        active_to=until,
    )


def new_members(count: int, **seat_kwargs: object) -> list[User]:
    users = [UserFactory(role=Role.COMMITTEE_MEMBER) for _ in range(count)]
    for user in users:
        seat(user, **seat_kwargs)
    return users


def draft(
    by: User,
    type: str = ProposalType.GRANT_KEY,
    client: Client | None = None,
    **kwargs: object,
) -> Proposal:
    if type == ProposalType.STRATEGIC_BET:
        kwargs.setdefault("review_date", today() + days(180))
    if type != ProposalType.ADOPT_RULER and client is None:
        client = ClientFactory(is_key=type == ProposalType.REVOKE_KEY)
    return proposal_create(
        type=type, title=f"{type} proposal", rationale="Because.", by=by, client=client, **kwargs
    )


def opened(by: User, type: str = ProposalType.GRANT_KEY, **kwargs: object) -> Proposal:
    return proposal_open(proposal=draft(by, type, **kwargs), deadline=timezone.now() + days(7))


def votes(proposal: Proposal, *pairs: tuple[User, str]) -> None:
    for user, choice in pairs:
        vote_cast(proposal=proposal, member=user, choice=choice, comment="noted")


def reload(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def move_deadline_into_the_past(proposal: Proposal, ago: datetime.timedelta) -> None:
    Proposal.objects.filter(pk=proposal.pk).update(deadline=timezone.now() - ago)


def in_threads(targets: list[Callable[[], object]]) -> list[tuple[object, BaseException | None]]:
    """Run each target in its own thread on its own database connection, all released at
    once; return (result, exception) per target, in order."""
    start = threading.Barrier(len(targets))
    outcomes: list[tuple[object, BaseException | None]] = [(None, None)] * len(targets)

    def work(index: int, target: Callable[[], object]) -> None:
        try:
            start.wait()
            outcomes[index] = (target(), None)
        except BaseException as exc:  # inspected by the caller
            outcomes[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


# --- Fixtures --------------------------------------------------------------------------------


@pytest.fixture
def committee(chair: User, member: User) -> list[User]:
    """Five seats: the cast's chair and member, and three more members."""
    seat(chair, CommitteeRole.HEAD_OF_KAM, chair=True)
    seat(member, CommitteeRole.SALES_DIRECTOR)
    others = [UserFactory(username=f"seat{i}", role=Role.COMMITTEE_MEMBER) for i in (3, 4, 5)]
    for user, role in zip(
        others,
        [
            CommitteeRole.COMMERCIAL_DIRECTOR,
            CommitteeRole.EXECUTIVE_DIRECTOR,
            CommitteeRole.SALES_DIRECTOR,
        ],
        strict=True,
    ):
        seat(user, role)
    return [chair, member, *others]


@pytest.fixture
def committee4(chair: User, member: User) -> list[User]:
    """Four seats."""
    seat(chair, CommitteeRole.HEAD_OF_KAM, chair=True)
    seat(member, CommitteeRole.SALES_DIRECTOR)
    return [chair, member, *new_members(2)]


# --- Votes -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_members_vote_for_against_or_abstain_with_an_optional_comment(
    committee: list[User],
) -> None:
    proposal = opened(committee[0])
    vote_cast(proposal=proposal, member=committee[0], choice=FOR, comment="Strong fit.")
    vote_cast(proposal=proposal, member=committee[1], choice=AGAINST)
    vote_cast(proposal=proposal, member=committee[2], choice=ABSTAIN)

    current = {v.member_id: (v.choice, v.comment) for v in Vote.objects.filter(is_current=True)}
    assert current == {
        committee[0].pk: (FOR, "Strong fit."),
        committee[1].pk: (AGAINST, ""),
        committee[2].pk: (ABSTAIN, ""),
    }
    assert tally_of(proposal).as_dict() == {"for": 1, "against": 1, "abstain": 1}


@pytest.mark.django_db
def test_a_choice_outside_for_against_abstain_is_refused(committee: list[User]) -> None:
    proposal = opened(committee[0])
    with pytest.raises(ValidationError):
        vote_cast(proposal=proposal, member=committee[0], choice="maybe")
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_a_vote_against_a_strategic_bet_says_why(committee: list[User]) -> None:
    bet = opened(committee[0], ProposalType.STRATEGIC_BET)
    for blank in ("", "   \n"):
        with pytest.raises(ValidationError) as error:
            vote_cast(proposal=bet, member=committee[1], choice=AGAINST, comment=blank)
        assert "comment" in error.value.message_dict
    assert not Vote.objects.exists()

    vote_cast(proposal=bet, member=committee[1], choice=AGAINST, comment="Too far from our USPs.")
    vote_cast(proposal=bet, member=committee[2], choice=FOR)  # for needs no comment
    vote_cast(proposal=bet, member=committee[3], choice=ABSTAIN)

    grant = opened(committee[0])
    vote_cast(proposal=grant, member=committee[1], choice=AGAINST)  # only bets need a reason
    assert Vote.objects.count() == 4


@pytest.mark.django_db
def test_a_changed_vote_keeps_the_old_one_in_the_history(committee: list[User]) -> None:
    proposal = opened(committee[0])
    voter = committee[1]
    first = vote_cast(proposal=proposal, member=voter, choice=FOR, comment="first")
    second = vote_cast(proposal=proposal, member=voter, choice=AGAINST, comment="second")
    third = vote_cast(proposal=proposal, member=voter, choice=ABSTAIN, comment="third")

    history = list(Vote.objects.filter(proposal=proposal, member=voter).order_by("pk"))
    assert [v.pk for v in history] == [first.pk, second.pk, third.pk]
    assert [(v.choice, v.comment, v.is_current) for v in history] == [
        (FOR, "first", False),
        (AGAINST, "second", False),
        (ABSTAIN, "third", True),
    ]
    assert tally_of(proposal).as_dict() == {"for": 0, "against": 0, "abstain": 1}


@pytest.mark.django_db
def test_the_database_keeps_one_current_vote_per_member_and_proposal(
    committee: list[User],
) -> None:
    proposal = opened(committee[0])
    voter = committee[1]
    Vote.objects.create(proposal=proposal, member=voter, choice=FOR)
    # Old votes may pile up…
    Vote.objects.create(proposal=proposal, member=voter, choice=AGAINST, is_current=False)
    Vote.objects.create(proposal=proposal, member=voter, choice=ABSTAIN, is_current=False)
    # …and another member, or the same member on another proposal, has a current vote of
    # their own…
    Vote.objects.create(proposal=proposal, member=committee[2], choice=FOR)
    Vote.objects.create(proposal=opened(committee[0]), member=voter, choice=FOR)
    # …but a second current vote is refused by the database itself.
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(proposal=proposal, member=voter, choice=AGAINST)
    assert Vote.objects.filter(proposal=proposal, member=voter, is_current=True).count() == 1


@pytest.mark.django_db
def test_a_recused_member_cannot_vote_and_leaves_the_quorum_base(
    committee: list[User],
) -> None:
    proposal = opened(committee[0])
    vote_cast(proposal=proposal, member=committee[1], choice=FOR)
    assert tally_of(proposal).base == 5

    recuse(proposal=proposal, member=committee[1], reason="Sits on the client's board.")

    assert committee[1] not in entitled_members(proposal=proposal)
    assert tally_of(proposal).base == 4
    # Their vote cast before the recusal no longer counts, but stays in the history.
    assert tally_of(proposal).as_dict() == {"for": 0, "against": 0, "abstain": 0}
    assert Vote.objects.filter(member=committee[1]).count() == 1
    with pytest.raises(NotEntitled):
        vote_cast(proposal=proposal, member=committee[1], choice=AGAINST)
    assert Vote.objects.filter(member=committee[1], is_current=True).count() == 0


@pytest.mark.django_db
def test_only_a_member_with_a_seat_today_votes(chair: User, member: User) -> None:
    seat(chair, chair=True)
    seat(member, since=today() - days(400), until=today() - days(1))  # ended yesterday
    not_yet = new_members(1, since=today() + days(1))[0]  # starts tomorrow
    seatless = UserFactory(role=Role.COMMITTEE_MEMBER)  # the role, but no seat
    ends_today = new_members(1, until=today())[0]  # still sits today
    proposal = opened(chair)

    for user in (member, not_yet, seatless):
        with pytest.raises(NotEntitled):
            vote_cast(proposal=proposal, member=user, choice=FOR)
    vote_cast(proposal=proposal, member=ends_today, choice=FOR)
    vote_cast(proposal=proposal, member=chair, choice=FOR)

    assert {u.pk for u in entitled_members(proposal=proposal)} == {chair.pk, ends_today.pk}
    assert tally_of(proposal).as_dict() == {"for": 2, "against": 0, "abstain": 0}


@pytest.mark.django_db
def test_an_inactive_user_keeps_no_vote_through_an_old_seat(committee: list[User]) -> None:
    proposal = opened(committee[0])
    User.objects.filter(pk=committee[4].pk).update(is_active=False)
    committee[4].refresh_from_db()
    with pytest.raises(NotEntitled):
        vote_cast(proposal=proposal, member=committee[4], choice=FOR)
    assert tally_of(proposal).base == 4


# --- The tally and its edges -----------------------------------------------------------------


@pytest.mark.django_db
def test_quorum_just_missed_lapses_and_just_met_counts(committee: list[User]) -> None:
    missed = opened(committee[0])
    votes(missed, (committee[0], FOR), (committee[1], FOR))
    met = opened(committee[0])
    votes(met, (committee[0], FOR), (committee[1], FOR), (committee[2], AGAINST))
    assert tally_of(missed).quorum == 3

    assert proposal_close(proposal=missed).state == ProposalState.LAPSED
    assert proposal_close(proposal=met).state == ProposalState.ADOPTED
    assert reload(missed).final_tally == {"for": 2, "against": 0, "abstain": 0, "base": 5}
    assert reload(met).final_tally == {"for": 2, "against": 1, "abstain": 0, "base": 5}
    assert not Client.objects.get(pk=missed.client_id).is_key
    assert Client.objects.get(pk=met.client_id).is_key


def test_quorum_on_the_tally() -> None:
    assert Tally(2, 0, 0, 5, SIMPLE).quorum == 3
    assert not Tally(2, 0, 0, 5, SIMPLE).quorum_met
    assert Tally(2, 0, 0, 5, SIMPLE).outcome == ProposalState.LAPSED
    assert Tally(2, 0, 1, 5, SIMPLE).quorum_met  # abstentions count towards the quorum
    assert Tally(2, 0, 1, 5, SIMPLE).outcome == ProposalState.ADOPTED
    assert Tally(2, 0, 0, 4, SIMPLE).quorum_met  # half of four is two
    assert not Tally(1, 0, 0, 3, SIMPLE).quorum_met  # half of three rounds up to two
    assert Tally(0, 0, 0, 0, SIMPLE).outcome == ProposalState.LAPSED  # nobody to vote


@pytest.mark.django_db
def test_a_tie_is_not_a_simple_majority(committee: list[User]) -> None:
    proposal = opened(committee[0])
    votes(
        proposal,
        (committee[0], FOR),
        (committee[1], FOR),
        (committee[2], AGAINST),
        (committee[3], AGAINST),
    )
    assert proposal_close(proposal=proposal).state == ProposalState.REJECTED
    assert not Client.objects.get(pk=proposal.client_id).is_key
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_all_abstaining_meets_the_quorum_but_adopts_nothing(committee: list[User]) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], ABSTAIN), (committee[1], ABSTAIN), (committee[2], ABSTAIN))
    tally = tally_of(proposal)
    assert tally.quorum_met
    assert proposal_close(proposal=proposal).state == ProposalState.REJECTED
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_with_four_members_and_one_recused_two_votes_meet_the_quorum(
    committee4: list[User],
) -> None:
    proposal = opened(committee4[0])
    recuse(proposal=proposal, member=committee4[3], reason="Conflict of interest.")
    votes(proposal, (committee4[0], FOR), (committee4[1], AGAINST))
    tally = tally_of(proposal)
    assert (tally.base, tally.quorum, tally.quorum_met) == (3, 2, True)
    closed = proposal_close(proposal=proposal)
    assert closed.state == ProposalState.REJECTED  # quorum met; one for, one against
    assert closed.final_tally["base"] == 3
    assert committee4[3].pk not in {m["id"] for m in closed.entitled}


@pytest.mark.django_db
def test_recusals_turn_a_lapse_into_a_decision(committee: list[User]) -> None:
    """Of five, two votes miss the quorum of three; with two recused the base is three and two
    votes meet it."""
    without = opened(committee[0])
    votes(without, (committee[0], FOR), (committee[1], FOR))
    with_recusals = opened(committee[0])
    recuse(proposal=with_recusals, member=committee[3], reason="Family ties.")
    recuse(proposal=with_recusals, member=committee[4], reason="Former employee.")
    votes(with_recusals, (committee[0], FOR), (committee[1], FOR))

    assert proposal_close(proposal=without).state == ProposalState.LAPSED
    assert proposal_close(proposal=with_recusals).state == ProposalState.ADOPTED
    assert reload(with_recusals).final_tally["base"] == 3


def test_two_thirds_majority() -> None:
    assert Tally(2, 1, 0, 3, TWO_THIRDS).outcome == ProposalState.ADOPTED  # exactly 2/3
    assert Tally(3, 2, 0, 5, TWO_THIRDS).outcome == ProposalState.REJECTED  # 60 %
    assert Tally(4, 2, 0, 6, TWO_THIRDS).outcome == ProposalState.ADOPTED
    assert Tally(3, 2, 0, 5, SIMPLE).outcome == ProposalState.ADOPTED  # simple: it would pass
    assert Tally(0, 0, 3, 5, TWO_THIRDS).outcome == ProposalState.REJECTED  # nothing counted
    counted = DecisionRule(50, Majority.TWO_THIRDS, abstentions_count=True)
    assert Tally(2, 0, 1, 3, TWO_THIRDS).outcome == ProposalState.ADOPTED
    assert Tally(2, 0, 1, 3, counted).outcome == ProposalState.ADOPTED  # 2 of 3
    assert Tally(2, 0, 2, 4, counted).outcome == ProposalState.REJECTED  # 2 of 4


def test_unanimity() -> None:
    assert Tally(4, 0, 0, 5, UNANIMOUS).outcome == ProposalState.ADOPTED
    assert Tally(4, 1, 0, 5, UNANIMOUS).outcome == ProposalState.REJECTED
    assert Tally(3, 0, 1, 5, UNANIMOUS).outcome == ProposalState.ADOPTED  # abstention ignored
    counted = DecisionRule(50, Majority.UNANIMOUS, abstentions_count=True)
    assert Tally(3, 0, 1, 5, counted).outcome == ProposalState.REJECTED
    assert Tally(0, 0, 3, 5, UNANIMOUS).outcome == ProposalState.REJECTED  # nobody for


def test_abstentions_count_or_not() -> None:
    counted = DecisionRule(50, Majority.SIMPLE, abstentions_count=True)
    assert Tally(2, 1, 2, 5, SIMPLE).outcome == ProposalState.ADOPTED  # 2 of 3
    assert Tally(2, 1, 2, 5, counted).outcome == ProposalState.REJECTED  # 2 of 5
    assert Tally(3, 1, 1, 5, counted).outcome == ProposalState.ADOPTED  # 3 of 5
    # Either way an abstention counts towards the quorum.
    assert Tally(1, 0, 2, 5, SIMPLE).quorum_met
    assert Tally(1, 0, 2, 5, counted).quorum_met


def test_votes_for_needed() -> None:
    assert Tally(2, 0, 0, 5, SIMPLE).votes_for_needed() == 1  # one more for adopts it
    assert Tally(1, 0, 0, 5, SIMPLE).votes_for_needed() == 2  # the quorum needs two more
    assert Tally(0, 0, 0, 5, SIMPLE).votes_for_needed() == 3
    assert Tally(2, 2, 0, 5, SIMPLE).votes_for_needed() == 1  # breaks the tie
    assert Tally(1, 2, 0, 5, SIMPLE).votes_for_needed() == 2
    assert Tally(0, 3, 0, 5, SIMPLE).votes_for_needed() is None  # two left cannot outvote three
    assert Tally(3, 0, 0, 5, SIMPLE).votes_for_needed() == 0  # adopted already
    assert Tally(2, 1, 0, 5, TWO_THIRDS).votes_for_needed() == 0
    assert Tally(1, 1, 0, 5, TWO_THIRDS).votes_for_needed() == 1
    assert Tally(3, 1, 0, 5, UNANIMOUS).votes_for_needed() is None


def test_outcome_is_settled() -> None:
    assert not Tally(0, 0, 0, 5, SIMPLE).outcome_is_settled()
    assert not Tally(2, 0, 0, 5, SIMPLE).outcome_is_settled()  # lapse or adoption
    assert not Tally(2, 1, 0, 5, SIMPLE).outcome_is_settled()  # two against would reject
    assert Tally(3, 0, 0, 5, SIMPLE).outcome_is_settled()  # two against cannot catch up
    assert Tally(0, 3, 0, 5, SIMPLE).outcome_is_settled()  # two for cannot catch up
    assert Tally(3, 1, 0, 5, SIMPLE).outcome_is_settled()  # one against only makes it 3:2
    assert not Tally(2, 2, 0, 5, SIMPLE).outcome_is_settled()  # the last vote decides
    assert Tally(2, 2, 1, 5, SIMPLE).outcome_is_settled()  # everybody voted
    assert not Tally(4, 0, 0, 5, UNANIMOUS).outcome_is_settled()  # one against breaks it
    assert Tally(2, 1, 0, 5, UNANIMOUS).outcome_is_settled()  # broken already
    assert not Tally(1, 1, 0, 5, UNANIMOUS).outcome_is_settled()  # lapse or rejection


@pytest.mark.django_db
def test_early_close_waits_until_the_outcome_is_settled(committee: list[User]) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], FOR))
    with pytest.raises(ProposalNotOpen):
        proposal_close(proposal=proposal, early=True)
    assert reload(proposal).state == ProposalState.OPEN
    assert not Client.objects.get(pk=proposal.client_id).is_key

    votes(proposal, (committee[2], FOR))  # three of five for: nothing left can change it
    closed = proposal_close(proposal=proposal, early=True)
    assert closed.state == ProposalState.ADOPTED
    assert Client.objects.get(pk=proposal.client_id).is_key


# --- Lifecycle -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_draft_to_open_to_adopted_applies_key_status(committee: list[User]) -> None:
    proposal = draft(committee[0])
    assert proposal.state == ProposalState.DRAFT
    with pytest.raises(ProposalNotOpen):  # a draft takes no votes
        vote_cast(proposal=proposal, member=committee[0], choice=FOR)

    proposal = proposal_open(proposal=proposal, deadline=timezone.now() + days(7))
    assert proposal.state == ProposalState.OPEN
    assert proposal.opened_at is not None
    with pytest.raises(ProposalNotOpen):  # opened once
        proposal_open(proposal=proposal, deadline=timezone.now() + days(7))

    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    closed = proposal_close(proposal=proposal)
    assert closed.state == ProposalState.ADOPTED
    assert closed.closed_at is not None
    decision = Decision.objects.get(proposal=proposal)
    assert (decision.client_id, decision.key_status, decision.effective_date) == (
        proposal.client_id,
        True,
        today(),
    )
    assert Client.objects.get(pk=proposal.client_id).is_key


@pytest.mark.django_db
def test_adoption_and_key_status_commit_together(
    committee: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If recording the decision fails, neither the key status nor the close is kept."""
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))

    def broken(**kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Decision.objects, "create", broken)
    with pytest.raises(RuntimeError):
        proposal_close(proposal=proposal)
    monkeypatch.undo()

    assert reload(proposal).state == ProposalState.OPEN
    assert not Client.objects.get(pk=proposal.client_id).is_key
    assert proposal_close(proposal=proposal).state == ProposalState.ADOPTED
    assert Client.objects.get(pk=proposal.client_id).is_key


@pytest.mark.django_db
def test_adopting_a_revocation_removes_key_status(committee: list[User]) -> None:
    client = ClientFactory(is_key=True)
    proposal = opened(committee[0], ProposalType.REVOKE_KEY, client=client)
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], AGAINST))
    assert proposal_close(proposal=proposal).state == ProposalState.ADOPTED
    client.refresh_from_db()
    assert client.is_key is False
    assert Decision.objects.get(proposal=proposal).key_status is False


@pytest.mark.django_db
def test_a_rejected_or_lapsed_proposal_leaves_key_status_alone(committee: list[User]) -> None:
    key = ClientFactory(is_key=True)
    revoke = opened(committee[0], ProposalType.REVOKE_KEY, client=key)
    votes(revoke, (committee[0], AGAINST), (committee[1], AGAINST), (committee[2], FOR))
    grant = opened(committee[0])
    votes(grant, (committee[0], FOR))
    assert proposal_close(proposal=revoke).state == ProposalState.REJECTED
    assert proposal_close(proposal=grant).state == ProposalState.LAPSED
    assert Client.objects.get(pk=key.pk).is_key
    assert not Client.objects.get(pk=grant.client_id).is_key
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_strategic_bet_needs_a_review_date_and_grants_key_status(
    committee: list[User],
) -> None:
    client = ClientFactory()
    for review_date in (None, today(), today() - days(1)):
        with pytest.raises(ValidationError) as error:
            proposal_create(
                type=ProposalType.STRATEGIC_BET,
                title="Bet",
                rationale="Unprofitable today, key tomorrow.",
                by=committee[0],
                client=client,
                review_date=review_date,
            )
        assert "review_date" in error.value.message_dict
    assert not Proposal.objects.exists()

    review = today() + days(365)
    bet = opened(committee[0], ProposalType.STRATEGIC_BET, client=client, review_date=review)
    votes(bet, (committee[0], FOR), (committee[1], FOR))
    vote_cast(proposal=bet, member=committee[2], choice=AGAINST, comment="Margins too thin.")
    assert proposal_close(proposal=bet).state == ProposalState.ADOPTED
    client.refresh_from_db()
    assert client.is_key
    decision = Decision.objects.get(proposal=bet)
    assert (decision.key_status, decision.review_date) == (True, review)


@pytest.mark.django_db
def test_a_bet_without_a_review_date_is_refused_by_the_database(committee: list[User]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(
            type=ProposalType.STRATEGIC_BET,
            title="Bet",
            rationale="…",
            client=ClientFactory(),
            proposed_by=committee[0],
        )


@pytest.mark.django_db
def test_proposals_about_status_are_checked_against_the_client(committee: list[User]) -> None:
    with pytest.raises(ValidationError):
        draft(committee[0], ProposalType.GRANT_KEY, client=ClientFactory(is_key=True))
    with pytest.raises(ValidationError):
        draft(committee[0], ProposalType.REVOKE_KEY, client=ClientFactory(is_key=False))
    with pytest.raises(ValidationError):
        proposal_create(
            type=ProposalType.GRANT_KEY, title="t", rationale="r", by=committee[0], client=None
        )


# --- The ruler decides the route; one question about a client at a time ----------------------


@pytest.fixture
def ruler_in_force() -> RulerVersion:
    """A ruler without gates: a client meets it when our USPs cover 75 % of its needs."""
    return RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)


@pytest.mark.django_db
def test_a_client_that_fails_the_ruler_is_proposed_only_as_a_strategic_bet(
    committee: list[User], ruler_in_force: RulerVersion
) -> None:
    failing = ClientFactory(name="Half Covered LLC")
    meets_the_ruler(failing, degree="0.5")

    with pytest.raises(ValidationError) as refused:
        draft(committee[0], ProposalType.GRANT_KEY, client=failing)

    (why,) = refused.value.message_dict["type"]
    assert "Half Covered LLC" in why and "50.0 % of 75.0 %" in why and "strategic bet" in why
    assert not Proposal.objects.exists()
    bet = opened(committee[0], ProposalType.STRATEGIC_BET, client=failing)
    assert bet.state == ProposalState.OPEN and bet.evidence["meets_ruler"] is False


@pytest.mark.django_db
def test_a_client_that_meets_the_ruler_is_proposed_for_key_status_not_as_a_bet(
    committee: list[User], ruler_in_force: RulerVersion
) -> None:
    meeting = ClientFactory()
    meets_the_ruler(meeting)

    with pytest.raises(ValidationError) as refused:
        draft(committee[0], ProposalType.STRATEGIC_BET, client=meeting)

    assert "propose key status" in refused.value.message_dict["type"][0]
    assert opened(committee[0], ProposalType.GRANT_KEY, client=meeting).is_open


@pytest.mark.django_db
def test_the_route_is_checked_again_when_the_proposal_opens(
    committee: list[User], ruler_in_force: RulerVersion
) -> None:
    client = ClientFactory()
    need = meets_the_ruler(client)
    grant = draft(committee[0], ProposalType.GRANT_KEY, client=client)
    need.coverages.update(degree=0)  # our USPs cover nothing of it any more

    with pytest.raises(ValidationError):
        proposal_open(proposal=grant, deadline=timezone.now() + days(7))

    grant.refresh_from_db()
    assert grant.state == ProposalState.DRAFT


@pytest.mark.django_db
def test_a_key_client_that_fails_the_ruler_can_be_revoked(
    committee: list[User], ruler_in_force: RulerVersion
) -> None:
    failing_key = ClientFactory(is_key=True)
    meets_the_ruler(failing_key, degree="0.2")

    assert opened(committee[0], ProposalType.REVOKE_KEY, client=failing_key).is_open


@pytest.mark.django_db
def test_one_question_about_a_client_is_open_at_a_time(committee: list[User]) -> None:
    client = ClientFactory(name="Asked Twice LLC")
    first = opened(committee[0], client=client)
    second = draft(committee[1], ProposalType.STRATEGIC_BET, client=client)

    with pytest.raises(ProposalNotOpen, match="Asked Twice LLC is already before the committee"):
        proposal_open(proposal=second, deadline=timezone.now() + days(7))

    proposal_withdraw(proposal=first)
    assert proposal_open(proposal=second, deadline=timezone.now() + days(7)).is_open


@pytest.mark.django_db
def test_the_database_keeps_one_open_proposal_per_client(committee: list[User]) -> None:
    client = ClientFactory()
    opened(committee[0], client=client)

    with pytest.raises(IntegrityError), transaction.atomic():
        Proposal.objects.create(
            type=ProposalType.GRANT_KEY,
            title="Again",
            rationale="…",
            client=client,
            proposed_by=committee[1],
            state=ProposalState.OPEN,
        )


@pytest.mark.django_db
def test_withdrawn_from_draft_or_open_and_then_closed_to_votes(committee: list[User]) -> None:
    from_draft = proposal_withdraw(proposal=draft(committee[0]))
    from_open = opened(committee[0])
    votes(from_open, (committee[0], FOR))
    from_open = proposal_withdraw(proposal=from_open)
    assert (from_draft.state, from_open.state) == (ProposalState.WITHDRAWN,) * 2

    with pytest.raises(ProposalNotOpen):
        vote_cast(proposal=from_open, member=committee[1], choice=FOR)
    with pytest.raises(ProposalNotOpen):
        proposal_withdraw(proposal=from_open)
    assert proposal_close(proposal=from_open).state == ProposalState.WITHDRAWN  # stays so
    assert Vote.objects.filter(proposal=from_open).count() == 1  # the vote is kept

    adopted = opened(committee[0])
    votes(adopted, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    proposal_close(proposal=adopted)
    with pytest.raises(ProposalNotOpen):
        proposal_withdraw(proposal=adopted)
    with pytest.raises(ProposalNotOpen):
        recuse(proposal=adopted, member=committee[0], reason="Too late.")


@pytest.mark.django_db
def test_closing_is_idempotent(committee: list[User]) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    first = proposal_close(proposal=proposal)
    second = proposal_close(proposal=proposal)
    assert (second.state, second.closed_at, second.final_tally) == (
        first.state,
        first.closed_at,
        first.final_tally,
    )
    assert Decision.objects.filter(proposal=proposal).count() == 1


@pytest.mark.django_db
def test_the_rule_is_frozen_when_the_proposal_opens(
    committee: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = opened(committee[0])
    assert (before.quorum_percent, before.majority, before.abstentions_count) == (
        50,
        Majority.SIMPLE,
        False,
    )
    votes(before, (committee[0], FOR), (committee[1], FOR), (committee[2], AGAINST))
    a_draft = draft(committee[0])

    # The committee's policy changes: unanimity and a quorum of all.
    stricter = DecisionRule(quorum_percent=100, majority=Majority.UNANIMOUS, abstentions_count=True)
    monkeypatch.setattr(services, "DEFAULT_RULE", stricter)
    monkeypatch.setattr("governance.models.committee.DEFAULT_RULE", stricter)

    after = proposal_open(proposal=a_draft, deadline=timezone.now() + days(7))
    assert after.rule == stricter
    assert reload(before).rule == SIMPLE  # opened before the change: its rule stays
    assert tally_of(reload(before)).outcome == ProposalState.ADOPTED
    assert proposal_close(proposal=before).state == ProposalState.ADOPTED


@pytest.mark.django_db
def test_the_entitled_members_are_frozen_at_close(committee: list[User]) -> None:
    proposal = opened(committee[0])
    recuse(proposal=proposal, member=committee[4], reason="Conflict.")
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    closed = proposal_close(proposal=proposal)
    frozen = [m["id"] for m in closed.entitled]
    assert sorted(frozen) == sorted(u.pk for u in committee[:4])

    newcomer, _another = new_members(2, since=today())  # join after the close
    CommitteeMember.objects.filter(user=committee[1]).update(active_to=today() - days(1))
    closed = reload(proposal)
    assert [m["id"] for m in closed.entitled] == frozen
    assert newcomer.pk not in frozen
    assert tally_of(closed).base == 4  # the base is the frozen one, not today's committee
    assert tally_of(closed).outcome == ProposalState.ADOPTED
    with pytest.raises(ProposalNotOpen):
        vote_cast(proposal=closed, member=newcomer, choice=AGAINST)


@pytest.mark.django_db
def test_revisiting_a_decision_supersedes_it_and_keeps_the_old_votes(
    committee: list[User],
) -> None:
    client = ClientFactory()
    grant = opened(committee[0], client=client)
    votes(grant, (committee[0], FOR), (committee[1], FOR), (committee[2], AGAINST))
    vote_cast(proposal=grant, member=committee[2], choice=FOR)  # a changed vote, in history
    proposal_close(proposal=grant)
    old = Decision.objects.get(proposal=grant)
    client.refresh_from_db()
    assert client.is_key

    # A revisit that fails leaves the old decision standing.
    failed = opened(committee[0], ProposalType.REVOKE_KEY, client=client, supersedes=old)
    votes(failed, (committee[0], AGAINST), (committee[1], AGAINST), (committee[2], FOR))
    proposal_close(proposal=failed)
    old.refresh_from_db()
    assert old.superseded_by is None

    revisit = opened(committee[0], ProposalType.REVOKE_KEY, client=client, supersedes=old)
    votes(revisit, (committee[0], FOR), (committee[1], FOR), (committee[3], FOR))
    assert proposal_close(proposal=revisit).state == ProposalState.ADOPTED
    new = Decision.objects.get(proposal=revisit)
    old.refresh_from_db()
    assert old.superseded_by == new
    assert new.superseded_by is None
    client.refresh_from_db()
    assert not client.is_key
    # Nothing was deleted: four votes on the grant (one changed), three on each revisit.
    assert Vote.objects.filter(proposal=grant).count() == 4
    assert Vote.objects.filter(proposal=grant, is_current=True).count() == 3
    assert Vote.objects.count() == 10
    assert Decision.objects.count() == 2


@pytest.mark.django_db
def test_adopting_a_ruler_puts_it_in_force(committee: list[User]) -> None:
    ruler = ruler_draft_create(title="Ruler 2027")
    proposal = opened(committee[0], ProposalType.ADOPT_RULER, ruler=ruler)
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    assert proposal_close(proposal=proposal).state == ProposalState.ADOPTED
    ruler.refresh_from_db()
    assert ruler.status == RulerStatus.IN_FORCE


# --- The deadline ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deadline_missed_by_a_sleeping_worker_is_closed_at_the_next_beat(
    committee: list[User],
) -> None:
    due = opened(committee[0])
    votes(due, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    silent = opened(committee[0])  # nobody voted
    running = opened(committee[0])
    votes(running, (committee[0], FOR))
    move_deadline_into_the_past(due, days(2))
    move_deadline_into_the_past(silent, datetime.timedelta(seconds=1))

    assert close_due_proposals() == 2

    assert reload(due).state == ProposalState.ADOPTED
    assert Client.objects.get(pk=due.client_id).is_key
    assert reload(silent).state == ProposalState.LAPSED
    assert reload(running).state == ProposalState.OPEN
    assert not Proposal.objects.filter(
        state=ProposalState.OPEN, deadline__lte=timezone.now()
    ).exists()

    snapshot = list(Proposal.objects.order_by("pk").values("pk", "state", "closed_at"))
    assert close_due_proposals() == 0  # a second beat changes nothing
    assert list(Proposal.objects.order_by("pk").values("pk", "state", "closed_at")) == snapshot
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_no_votes_are_taken_after_the_deadline_even_before_the_beat_closes_it(
    committee: list[User],
) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], FOR))
    move_deadline_into_the_past(proposal, datetime.timedelta(minutes=5))

    with pytest.raises(ProposalNotOpen):
        vote_cast(proposal=proposal, member=committee[2], choice=FOR)
    with pytest.raises(ProposalNotOpen):  # nor changed
        vote_cast(proposal=proposal, member=committee[0], choice=AGAINST)

    assert proposals_close_due() == 1
    closed = reload(proposal)
    assert closed.state == ProposalState.LAPSED  # two of five, as at the deadline
    assert closed.final_tally == {"for": 2, "against": 0, "abstain": 0, "base": 5}


@pytest.mark.django_db
def test_a_vote_is_stamped_with_the_moment_checked_against_the_deadline(
    committee: list[User], time_machine: object
) -> None:
    """The race the issue measured: the deadline checked, then the clock passing it before
    the row is written. The clock is moved past the deadline while the vote is being saved;
    the vote keeps the moment it was checked at, so none is stored later than its deadline."""
    proposal = opened(committee[0])
    deadline = reload(proposal).deadline
    time_machine.move_to(deadline - datetime.timedelta(milliseconds=1), tick=False)

    def clock_passes_the_deadline(**kwargs: object) -> None:
        time_machine.move_to(deadline + datetime.timedelta(milliseconds=50), tick=False)

    signals.pre_save.connect(clock_passes_the_deadline, sender=Vote)
    try:
        vote = vote_cast(proposal=proposal, member=committee[1], choice=FOR)
    finally:
        signals.pre_save.disconnect(clock_passes_the_deadline, sender=Vote)

    assert timezone.now() > deadline
    assert Vote.objects.get(pk=vote.pk).cast_at == deadline - datetime.timedelta(milliseconds=1)
    assert not Vote.objects.filter(proposal=proposal, cast_at__gt=deadline).exists()


@pytest.mark.django_db
def test_a_late_close_counts_the_committee_as_it_sat_at_the_deadline(
    committee4: list[User],
) -> None:
    proposal = opened(committee4[0])
    votes(proposal, (committee4[0], FOR), (committee4[1], FOR))  # two of four: quorum met
    move_deadline_into_the_past(proposal, days(3))
    # While the worker was down, two members joined (after the deadline) and one left.
    late = new_members(2, since=today() - days(1))
    CommitteeMember.objects.filter(user=committee4[3]).update(active_to=today() - days(1))

    assert close_due_proposals() == 1
    closed = reload(proposal)
    assert closed.state == ProposalState.ADOPTED
    assert closed.final_tally["base"] == 4
    assert sorted(m["id"] for m in closed.entitled) == sorted(u.pk for u in committee4)
    assert not {u.pk for u in late} & {m["id"] for m in closed.entitled}


@pytest.mark.django_db
def test_one_proposal_that_cannot_be_applied_does_not_keep_the_others_open(
    committee: list[User],
) -> None:
    """The ruler voted on was changed behind the application's back (by SQL) while the
    committee voted: that adoption is refused, and the proposals due with it still close."""
    ruler = ruler_draft_create(title="Ruler 2027")
    about_ruler = opened(committee[0], ProposalType.ADOPT_RULER, ruler=ruler)
    votes(about_ruler, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    grants = [opened(committee[0]) for _ in range(3)]
    for grant in grants:
        votes(grant, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    RulerVersion.objects.filter(pk=ruler.pk).update(coverage_threshold="0.01")
    for proposal in (about_ruler, *grants):
        move_deadline_into_the_past(proposal, days(1))

    with pytest.raises(VersionChanged):
        close_due_proposals()

    for grant in grants:
        assert reload(grant).state == ProposalState.ADOPTED
        assert Client.objects.get(pk=grant.client_id).is_key
    assert reload(about_ruler).state == ProposalState.OPEN
    assert RulerVersion.objects.get(pk=ruler.pk).status == RulerStatus.DRAFT


# --- The REST contract -----------------------------------------------------------------------


def post_vote(http, proposal: Proposal, data: dict[str, object]):
    return http.post(f"/api/proposals/{proposal.pk}/vote/", data, content_type="application/json")


@pytest.mark.django_db
def test_api_lists_proposals_by_state(committee: list[User], client_as) -> None:
    open_ones = [opened(committee[0]) for _ in range(2)]
    draft(committee[0])
    closed = opened(committee[0])
    proposal_close(proposal=closed)
    proposal_withdraw(proposal=opened(committee[0]))

    http = client_as(committee[1])
    response = http.get("/api/proposals/?state=open")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["id"] for row in rows} == {p.pk for p in open_ones}
    assert {row["state"] for row in rows} == {"open"}
    lapsed = http.get("/api/proposals/?state=lapsed").json()["results"]
    assert [row["id"] for row in lapsed] == [closed.pk]
    assert http.get("/api/proposals/").json()["count"] == 5


@pytest.mark.django_db
def test_api_detail_has_state_and_tally(committee: list[User], client_as, director) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], AGAINST), (committee[2], ABSTAIN))
    vote_cast(proposal=proposal, member=committee[3], choice=FOR)
    vote_cast(proposal=proposal, member=committee[3], choice=AGAINST)  # the current one counts

    body = client_as(director).get(f"/api/proposals/{proposal.pk}/").json()
    assert body["state"] == "open"
    assert body["tally"] == {"for": 1, "against": 2, "abstain": 1}

    proposal_close(proposal=proposal)
    body = client_as(director).get(f"/api/proposals/{proposal.pk}/").json()
    assert body["state"] == "rejected"
    assert body["tally"] == {"for": 1, "against": 2, "abstain": 1}
    assert {m["id"] for m in body["entitled"]} == {u.pk for u in committee}


@pytest.mark.django_db
def test_api_vote_casts_and_changes_the_callers_vote(committee: list[User], client_as) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR))
    http = client_as(committee[1])

    response = post_vote(http, proposal, {"choice": "against", "comment": "Not yet."})
    assert response.status_code == 200
    assert response.json()["state"] == "open"
    assert response.json()["tally"] == {"for": 1, "against": 1, "abstain": 0}

    response = post_vote(http, proposal, {"choice": "for"})  # comment optional
    assert response.status_code == 200
    assert response.json()["tally"] == {"for": 2, "against": 0, "abstain": 0}
    history = Vote.objects.filter(proposal=proposal, member=committee[1]).order_by("pk")
    assert [(v.choice, v.comment, v.is_current) for v in history] == [
        (AGAINST, "Not yet.", False),
        (FOR, "", True),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["director", "kam", "outsider", "administrator", "seatless"])
def test_api_vote_is_forbidden_to_non_members(
    committee: list[User], client_as, cast: dict[str, User], who: str
) -> None:
    user = UserFactory(role=Role.COMMITTEE_MEMBER) if who == "seatless" else cast[who]
    proposal = opened(committee[0])
    response = post_vote(client_as(user), proposal, {"choice": "for"})
    assert response.status_code == 403
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_api_vote_is_forbidden_to_a_recused_member(committee: list[User], client_as) -> None:
    proposal = opened(committee[0])
    recuse(proposal=proposal, member=committee[1], reason="Conflict.")
    response = post_vote(client_as(committee[1]), proposal, {"choice": "for"})
    assert response.status_code == 403
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_api_vote_conflicts_once_closed(committee: list[User], client_as) -> None:
    adopted = opened(committee[0])
    votes(adopted, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    proposal_close(proposal=adopted)
    withdrawn = proposal_withdraw(proposal=opened(committee[0]))
    a_draft = draft(committee[0])
    past_deadline = opened(committee[0])
    move_deadline_into_the_past(past_deadline, datetime.timedelta(minutes=1))

    http = client_as(committee[3])
    for proposal in (adopted, withdrawn, a_draft, past_deadline):
        response = post_vote(http, proposal, {"choice": "against"})
        assert response.status_code == 409, proposal.state
    assert not Vote.objects.filter(member=committee[3]).exists()
    assert reload(adopted).final_tally["against"] == 0


@pytest.mark.django_db
def test_api_vote_rejects_a_bad_choice_or_an_unexplained_no_to_a_bet(
    committee: list[User], client_as
) -> None:
    bet = opened(committee[0], ProposalType.STRATEGIC_BET)
    http = client_as(committee[1])
    for data in ({"choice": "maybe"}, {}, {"choice": ""}):
        response = post_vote(http, bet, data)
        assert response.status_code == 400
        assert "choice" in response.json()
    for data in ({"choice": "against"}, {"choice": "against", "comment": "  "}):
        response = post_vote(http, bet, data)
        assert response.status_code == 400
        assert "comment" in response.json()
    assert not Vote.objects.exists()
    assert post_vote(http, bet, {"choice": "against", "comment": "Why: X."}).status_code == 200


def proposals_with_votes(count: int, committee: list[User]) -> list[Proposal]:
    """``count`` proposals in every state, each with votes, changed votes and a recusal."""
    made = []
    for index in range(count):
        proposal = opened(committee[0])
        recuse(proposal=proposal, member=committee[4], reason="Conflict.")
        votes(proposal, (committee[0], FOR), (committee[1], [FOR, AGAINST][index % 2]))
        vote_cast(proposal=proposal, member=committee[2], choice=AGAINST)
        vote_cast(proposal=proposal, member=committee[2], choice=ABSTAIN)
        if index % 3 == 1:
            proposal = proposal_close(proposal=proposal)
        elif index % 3 == 2:
            proposal = proposal_withdraw(proposal=proposal)
        made.append(proposal)
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("filtered", ["", "?state=open"])
def test_api_list_query_count_does_not_grow_with_proposals(
    committee: list[User], client_as, filtered: str
) -> None:
    http = client_as(committee[0])
    proposals_with_votes(3, committee)
    with CaptureQueriesContext(connection) as few:
        assert http.get(f"/api/proposals/{filtered}").status_code == 200
    proposals_with_votes(17, committee)
    with CaptureQueriesContext(connection) as many:
        response = http.get(f"/api/proposals/{filtered}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == (20 if not filtered else 7)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_api_list_tally_matches_the_detail(committee: list[User], client_as) -> None:
    proposals_with_votes(6, committee)
    http = client_as(committee[1])
    rows = http.get("/api/proposals/").json()["results"]
    assert len(rows) == 6
    for row in rows:
        detail = http.get(f"/api/proposals/{row['id']}/").json()
        proposal = Proposal.objects.get(pk=row["id"])
        assert row["tally"] == detail["tally"] == tally_of(proposal).as_dict()
        assert row["state"] == detail["state"]
    assert {tuple(sorted(row["tally"].items())) for row in rows} == {
        (("abstain", 1), ("against", 0), ("for", 2)),
        (("abstain", 1), ("against", 1), ("for", 1)),
    }


@pytest.mark.django_db
def test_api_list_tally_of_closed_proposals_is_the_final_one(
    committee: list[User], client_as
) -> None:
    proposal = opened(committee[0])
    votes(proposal, (committee[0], FOR), (committee[1], FOR), (committee[2], FOR))
    proposal_close(proposal=proposal)
    # History rewritten behind the service's back: the register shows what was decided.
    Vote.objects.filter(proposal=proposal, member=committee[2]).update(choice=AGAINST)
    row = client_as(committee[1]).get("/api/proposals/").json()["results"][0]
    detail = client_as(committee[1]).get(f"/api/proposals/{proposal.pk}/").json()
    assert row["tally"] == detail["tally"] == {"for": 3, "against": 0, "abstain": 0}


@pytest.mark.django_db
def test_list_annotations_give_the_same_tally_as_the_services(committee: list[User]) -> None:
    """The base of an annotated proposal is the number of entitled members."""
    made = proposals_with_votes(6, committee)
    annotated = {p.pk: p for p in services.proposals_with_tally(Proposal.objects.all())}
    for proposal in made:
        assert tally_of(annotated[proposal.pk]) == tally_of(reload(proposal))
    assert {tally_of(p).base for p in annotated.values()} == {4}


# --- Races on PostgreSQL ---------------------------------------------------------------------


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are a PostgreSQL race"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_votes_at_once_from_one_member_leave_one_current_vote() -> None:
    voters = new_members(3)
    proposal = opened(voters[0])
    choices = list(itertools.islice(itertools.cycle([FOR, AGAINST, ABSTAIN]), 50))

    def cast(choice: str) -> Callable[[], Vote]:
        return lambda: vote_cast(proposal=proposal, member=voters[1], choice=choice, comment=choice)

    outcomes = in_threads([cast(choice) for choice in choices])

    assert [exc for _vote, exc in outcomes if exc is not None] == []
    history = Vote.objects.filter(proposal=proposal, member=voters[1])
    assert history.count() == 50
    current = history.get(is_current=True)
    assert current.pk == max(v.pk for v in history)  # the last one to commit is current
    assert current.comment == current.choice
    assert sum(tally_of(proposal).as_dict().values()) == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_votes_arriving_while_the_proposal_closes_are_counted_or_refused() -> None:
    members = new_members(5)
    rounds = 6
    for round_ in range(rounds):
        proposal = opened(members[0])
        choice_of = {m.pk: [FOR, AGAINST, ABSTAIN, FOR][i] for i, m in enumerate(members[:4])}

        def cast(
            user: User, proposal: Proposal = proposal, choice_of: dict[int, str] = choice_of
        ) -> Callable[[], Vote]:
            return lambda: vote_cast(proposal=proposal, member=user, choice=choice_of[user.pk])

        def close(proposal: Proposal = proposal) -> Callable[[], Proposal]:
            return lambda: proposal_close(proposal=proposal)

        targets = [cast(m) for m in members[:4]]
        targets.insert(round_ % 5, close())
        outcomes = in_threads(targets)

        closed = reload(proposal)
        assert closed.state != ProposalState.OPEN
        counted = {"for": 0, "against": 0, "abstain": 0}
        for (result, exc), target_index in zip(outcomes, range(5), strict=True):
            if isinstance(result, Proposal):
                assert exc is None
                continue
            if exc is not None:
                assert isinstance(exc, ProposalNotOpen), repr(exc)
                continue
            assert isinstance(result, Vote), target_index
            counted[result.choice] += 1
            assert Vote.objects.get(pk=result.pk).is_current
        final = {k: closed.final_tally[k] for k in ("for", "against", "abstain")}
        assert final == counted  # every vote taken is in the closing tally
        current = Vote.objects.filter(proposal=proposal, is_current=True)
        assert final == {c: current.filter(choice=c).count() for c in ("for", "against", "abstain")}
        assert closed.final_tally["base"] == 5
