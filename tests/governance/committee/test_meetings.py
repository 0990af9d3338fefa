"""Meetings of the committee: the agenda built from what waits for it (open proposals, clients the
ruler flagged, decisions due for review), attendance, minutes with recusals, tallies, outcomes and
named votes; the register of members' interests and the recusals it suggests; who may do what;
and pages whose query count does not grow with the agenda."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client, User
from accounts.roles import Role
from criteria.models import EvaluationRun, ReviewItem, ReviewKind, RulerStatus, RulerVersion
from governance.committee.meetings import (
    agenda_build,
    agenda_item_add,
    attendance_record,
    interest_declare,
    meeting_create,
    minutes,
    recusal_suggestions,
)
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    recuse,
    vote_cast,
)
from governance.models import (
    AgendaItem,
    AgendaKind,
    Attendance,
    CommitteeMember,
    Decision,
    Meeting,
    MemberInterest,
    PolicyStatus,
    Proposal,
    ProposalState,
    ProposalType,
)
from tests.factories import ClientFactory, PolicyFactory, UserFactory, meets_the_ruler
from tests.queries import SIGN_IN_QUERIES

# Meetings, seats and review dates count from today: the clock is set to noon in Moscow on
# a fixed day (time-machine), so that no test meets midnight halfway through.
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


# --- Helpers ------------------------------------------------------------------------------------


def today() -> datetime.date:
    return timezone.localdate()


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def seat(user: User) -> User:
    CommitteeMember.objects.create(
        user=user, committee_role="sales_director", active_from=today() - days(365)
    )
    return user


def opened(*, by: User, client: Client | None = None, title: str = "Make it key") -> Proposal:
    if client is None:
        client = ClientFactory()
        meets_the_ruler(client)
    return proposal_open(
        proposal=proposal_create(
            type=ProposalType.GRANT_KEY, title=title, rationale="Why", by=by, client=client
        ),
        deadline=timezone.now() + days(7),
    )


def decided(*, by: User, review_in_days: int) -> Decision:
    """A decision in force whose review date lies ``review_in_days`` from today."""
    proposal = Proposal.objects.create(
        type=ProposalType.GRANT_KEY,
        title="Decided earlier",
        rationale="Why",
        client=ClientFactory(),
        proposed_by=by,
        state=ProposalState.ADOPTED,
    )
    return Decision.objects.create(
        proposal=proposal,
        client=proposal.client,
        kind=proposal.type,
        subject=proposal.subject(),
        key_status=True,
        effective_date=today() - days(300),
        review_date=today() + days(review_in_days),
    )


@pytest.fixture
def run() -> EvaluationRun:
    ruler = RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    return EvaluationRun.objects.create(ruler=ruler, as_of=today(), status="done", in_progress=None)


def review_item(
    run: EvaluationRun,
    *,
    closed: bool = False,
    client: Client | None = None,
    kind: str = ReviewKind.MEETS_BUT_NOT_KEY,
) -> ReviewItem:
    return ReviewItem.objects.create(
        client=client or ClientFactory(),
        kind=kind,
        opened_by_run=run,
        opened_at=timezone.now(),
        closed_at=timezone.now() if closed else None,
    )


@pytest.fixture
def committee(chair: User, member: User) -> list[User]:
    third = UserFactory(username="third", role=Role.COMMITTEE_MEMBER)
    return [seat(chair), seat(member), seat(third)]


@pytest.fixture
def meeting(chair: User) -> Meeting:
    return meeting_create(held_on=today(), title="Autumn session", by=chair)


def agenda_of(meeting: Meeting) -> list[tuple[str, int | None]]:
    return [
        (item.kind, item.proposal_id or item.review_item_id or item.decision_id)
        for item in AgendaItem.objects.filter(meeting=meeting).order_by("order")
    ]


# --- The agenda ---------------------------------------------------------------------------------


def test_the_agenda_gathers_open_proposals_open_review_items_and_decisions_due(
    meeting: Meeting, committee: list[User], run: EvaluationRun
) -> None:
    chair = committee[0]
    open_proposal = opened(by=chair)
    draft_client = ClientFactory()
    meets_the_ruler(draft_client)
    proposal_create(type="grant_key", title="Draft", rationale="-", by=chair, client=draft_client)
    withdrawn = opened(by=chair)
    withdrawn.state = ProposalState.WITHDRAWN
    withdrawn.save()
    flagged = review_item(run)
    review_item(run, closed=True)
    due_soon = decided(by=chair, review_in_days=10)
    overdue = decided(by=chair, review_in_days=-5)
    decided(by=chair, review_in_days=60)

    added = agenda_build(meeting=meeting)

    assert added == 4
    assert agenda_of(meeting) == [
        (AgendaKind.PROPOSAL, open_proposal.pk),
        (AgendaKind.REVIEW_ITEM, flagged.pk),
        (AgendaKind.DECISION_REVIEW, overdue.pk),
        (AgendaKind.DECISION_REVIEW, due_soon.pk),
    ]


def test_a_client_comes_up_once_not_beside_its_proposal_nor_while_a_bet_holds_it(
    meeting: Meeting, committee: list[User], run: EvaluationRun
) -> None:
    chair = committee[0]
    proposed = opened(by=chair)
    beside_its_proposal = review_item(run, client=proposed.client)
    bet = decided(by=chair, review_in_days=90)
    Proposal.objects.filter(pk=bet.proposal_id).update(
        type=ProposalType.STRATEGIC_BET, review_date=bet.review_date
    )
    held_by_a_bet = review_item(run, client=bet.client, kind=ReviewKind.KEY_BUT_FAILS)
    flagged = review_item(run, kind=ReviewKind.KEY_BUT_FAILS)

    assert agenda_build(meeting=meeting) == 2
    assert agenda_of(meeting) == [
        (AgendaKind.PROPOSAL, proposed.pk),
        (AgendaKind.REVIEW_ITEM, flagged.pk),
    ]

    # Once the proposal is closed and the bet is over, the ruler's flags come up.
    Proposal.objects.filter(pk=proposed.pk).update(state=ProposalState.WITHDRAWN)
    Proposal.objects.filter(pk=bet.proposal_id).update(type=ProposalType.GRANT_KEY)
    assert agenda_build(meeting=meeting) == 2
    assert agenda_of(meeting)[2:] == [
        (AgendaKind.REVIEW_ITEM, beside_its_proposal.pk),
        (AgendaKind.REVIEW_ITEM, held_by_a_bet.pk),
    ]


def test_building_again_adds_nothing_twice_only_what_came_up_since(
    meeting: Meeting, committee: list[User], run: EvaluationRun
) -> None:
    chair = committee[0]
    first = opened(by=chair)
    agenda_build(meeting=meeting)
    agenda_item_add(meeting=meeting, text="Budget for next year")

    assert agenda_build(meeting=meeting) == 0

    later = opened(by=chair)
    flagged = review_item(run)
    assert agenda_build(meeting=meeting) == 2
    assert agenda_of(meeting) == [
        (AgendaKind.PROPOSAL, first.pk),
        (AgendaKind.FREE_TEXT, None),
        (AgendaKind.PROPOSAL, later.pk),
        (AgendaKind.REVIEW_ITEM, flagged.pk),
    ]
    assert list(AgendaItem.objects.filter(meeting=meeting).values_list("order", flat=True)) == [
        1,
        2,
        3,
        4,
    ]


def test_another_meeting_gets_its_own_agenda(
    meeting: Meeting, committee: list[User], chair: User
) -> None:
    proposal = opened(by=chair)
    agenda_build(meeting=meeting)
    next_meeting = meeting_create(held_on=today() + days(30), title="Winter session", by=chair)

    assert agenda_build(meeting=next_meeting) == 1
    assert agenda_of(next_meeting) == [(AgendaKind.PROPOSAL, proposal.pk)]


def test_the_database_keeps_each_thing_once_per_agenda_and_kind_with_its_link(
    meeting: Meeting, committee: list[User], chair: User
) -> None:
    proposal = opened(by=chair)
    agenda_build(meeting=meeting)

    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(
            meeting=meeting, order=9, kind=AgendaKind.PROPOSAL, proposal=proposal
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(meeting=meeting, order=9, kind=AgendaKind.REVIEW_ITEM)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendaItem.objects.create(meeting=meeting, order=9, kind=AgendaKind.FREE_TEXT, text="")


def test_free_text_needs_words(meeting: Meeting) -> None:
    with pytest.raises(ValidationError):
        agenda_item_add(meeting=meeting, text="   ")


# --- Attendance ---------------------------------------------------------------------------------


def test_attendance_marks_the_seated_members_present_or_absent_and_can_be_corrected(
    meeting: Meeting, committee: list[User]
) -> None:
    chair, member, third = committee

    attendance_record(meeting=meeting, present_ids=[chair.pk, member.pk])
    attendance_record(meeting=meeting, present_ids=[chair.pk, third.pk])

    assert dict(
        Attendance.objects.filter(meeting=meeting).values_list("member__username", "present")
    ) == {"chair": True, "member": False, "third": True}


def test_only_members_seated_that_day_attend(meeting: Meeting, committee: list[User]) -> None:
    stranger = UserFactory(username="stranger")

    with pytest.raises(ValidationError):
        attendance_record(meeting=meeting, present_ids=[stranger.pk])
    assert not Attendance.objects.filter(meeting=meeting).exists()


# --- Minutes ------------------------------------------------------------------------------------


@pytest.fixture
def sitting(meeting: Meeting, committee: list[User]) -> dict[str, object]:
    """A meeting with one vote closed (third stood aside, chair and member voted for: adopted)
    and one still open (member, with a comment, and third against; chair not yet), attendance
    recorded (third absent)."""
    chair, member, third = committee
    closed = opened(by=chair, title="Make Volga key")
    recuse(proposal=closed, member=third, reason="My brother runs their purchasing")
    vote_cast(proposal=closed, member=chair, choice="for", comment="Strategic fit")
    vote_cast(proposal=closed, member=member, choice="for")
    proposal_close(proposal=closed, early=True)
    still_open = opened(by=member, title="Make Kama key")
    vote_cast(proposal=still_open, member=member, choice="against", comment="Margin too thin")
    vote_cast(proposal=still_open, member=third, choice="against")
    agenda_build(meeting=meeting)
    # The closed one was on the agenda before it closed: put it there as the lead would.
    AgendaItem.objects.create(meeting=meeting, order=0, kind=AgendaKind.PROPOSAL, proposal=closed)
    agenda_item_add(meeting=meeting, text="Date of the next session")
    attendance_record(meeting=meeting, present_ids=[chair.pk, member.pk])
    return {"closed": closed, "open": still_open}


def test_minutes_hold_attendance_recusals_tallies_outcomes_and_named_votes(
    meeting: Meeting, committee: list[User], sitting: dict[str, Proposal]
) -> None:
    chair, member, third = committee

    result = minutes(meeting=meeting)

    assert set(result.present) == {chair, member}
    assert result.absent == [third]
    first, second, other = result.items
    assert first.item.proposal == sitting["closed"]
    closed = first.proposal
    assert closed.tally_is_final
    assert (closed.tally.votes_for, closed.tally.against, closed.tally.base) == (2, 0, 2)
    assert closed.proposal.state == ProposalState.ADOPTED
    assert closed.outcome_if_closed_now is None
    assert sorted(closed.entitled) == sorted([str(chair), str(member)])
    assert [(r.member, r.reason) for r in closed.recusals] == [
        (third, "My brother runs their purchasing")
    ]
    assert {(v.member, v.choice, v.comment) for v in closed.votes} == {
        (chair, "For", "Strategic fit"),
        (member, "For", ""),
    }
    still_open = second.proposal
    assert not still_open.tally_is_final
    assert (still_open.tally.votes_for, still_open.tally.against, still_open.tally.base) == (
        0,
        2,
        3,
    )
    assert still_open.outcome_if_closed_now == "Rejected"
    assert len(still_open.entitled) == 3
    assert {(v.member, v.choice, v.comment) for v in still_open.votes} == {
        (member, "Against", "Margin too thin"),
        (third, "Against", ""),
    }
    assert other.proposal is None
    assert other.item.text == "Date of the next session"


def test_the_minutes_page_reads_like_minutes(
    client_as, meeting: Meeting, committee: list[User], director: User, sitting: dict
) -> None:
    third = committee[2]

    page = client_as(director).get(reverse("governance:meeting-minutes", args=[meeting.pk]))

    assert page.status_code == 200
    text = page.text
    assert "Minutes: Autumn session" in text
    assert f"{third} — My brother runs their purchasing" in text
    assert "Final tally" in text and "Tally so far" in text
    assert "Outcome: <strong>Adopted</strong>" in text
    assert "if the vote closed now: Rejected" in text
    assert "Margin too thin" in text and "Strategic fit" in text
    assert "Date of the next session" in text
    # It prints as minutes: the print style lives in skam.css (the CSP runs no inline style).
    assert 'data-testid="minutes"' in text and "css/skam.css" in text
    stylesheet = (settings.BASE_DIR / "static" / "css" / "skam.css").read_text()
    assert "@media print" in stylesheet and ".minutes" in stylesheet


def test_minutes_of_a_meeting_without_attendance_say_so(
    client_as, meeting: Meeting, chair: User
) -> None:
    page = client_as(chair).get(reverse("governance:meeting-minutes", args=[meeting.pk]))

    assert "Attendance was not recorded." in page.text
    assert not minutes(meeting=meeting).attendance_recorded


# --- Members' interests -------------------------------------------------------------------------


def test_interests_suggest_recusal_on_the_clients_proposals_and_not_on_others(
    committee: list[User], kam: User, kam2: User
) -> None:
    chair, member, third = committee
    volga = ClientFactory(name="Volga", owner_kam=kam)
    ural = ClientFactory(name="Ural", owner_kam=kam2)
    kama = ClientFactory(name="Kama", owner_kam=None)
    interest_declare(member=member, client=volga, description="Former employer")
    interest_declare(member=third, kam=kam2, description="Married to the KAM")
    interest_declare(member=third, client=ural, description="Holds shares")

    on_volga = opened(by=chair, client=volga)
    on_ural = opened(by=chair, client=ural)
    on_kama = opened(by=chair, client=kama)

    [for_volga] = recusal_suggestions(proposal=on_volga)
    assert for_volga.member == member
    assert for_volga.reason == "Former employer"
    [for_ural] = recusal_suggestions(proposal=on_ural)
    assert for_ural.member == third
    assert sorted(i.description for i in for_ural.interests) == [
        "Holds shares",
        "Married to the KAM",
    ]
    assert recusal_suggestions(proposal=on_kama) == []


def test_no_suggestion_once_the_member_stood_aside_or_without_a_client(
    committee: list[User], kam: User
) -> None:
    chair, member, _third = committee
    volga = ClientFactory(owner_kam=kam)
    interest_declare(member=member, kam=kam, description="Old friend")
    proposal = opened(by=chair, client=volga)
    assert [s.member for s in recusal_suggestions(proposal=proposal)] == [member]

    recuse(proposal=proposal, member=member, reason="Old friend")

    assert recusal_suggestions(proposal=proposal) == []
    no_client = Proposal(type=ProposalType.ADOPT_POLICY, title="Policy", proposed_by=chair)
    assert recusal_suggestions(proposal=no_client) == []


def test_an_interest_names_a_client_or_a_kam(member: User) -> None:
    with pytest.raises(ValidationError):
        interest_declare(member=member, description="Something")
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberInterest.objects.create(member=member, description="Nothing", declared_on=today())


def test_recusal_suggestions_cost_one_query(
    committee: list[User], kam: User, django_assert_num_queries
) -> None:
    chair, member, third = committee
    volga = ClientFactory(owner_kam=kam)
    for user in (member, third):
        interest_declare(member=user, client=volga, description="Shares")
        interest_declare(member=user, kam=kam, description="Friend")
    proposal = opened(by=chair, client=volga)

    with django_assert_num_queries(1):
        suggestions = recusal_suggestions(proposal=proposal)

    assert len(suggestions) == 2
    assert all(len(s.interests) == 2 for s in suggestions)


def test_a_member_declares_own_interest_and_everyone_who_follows_sees_it(
    client_as, member: User, director: User, account_of_kam: Client
) -> None:
    url = reverse("governance:interest-register")

    answer = client_as(member).post(
        url, {"client": account_of_kam.pk, "description": "Cousin is their CFO"}
    )

    assert answer.status_code == 302
    interest = MemberInterest.objects.get()
    assert (interest.member, interest.client, interest.declared_on) == (
        member,
        account_of_kam,
        today(),
    )
    page = client_as(director).get(url)
    assert "Cousin is their CFO" in page.text
    assert "Declare an interest of yours" not in page.text


def test_declaring_an_interest_names_its_object(client_as, member: User) -> None:
    page = client_as(member).post(
        reverse("governance:interest-register"), {"description": "Something"}
    )

    assert page.status_code == 200
    assert "Name the client or the key-account manager" in page.text
    assert not MemberInterest.objects.exists()


# --- Pages and who may use them -----------------------------------------------------------------


def test_a_member_schedules_a_meeting_builds_its_agenda_and_records_attendance(
    client_as, committee: list[User]
) -> None:
    chair, member, third = committee
    proposal = opened(by=chair, title="Make Volga key")
    http = client_as(member)

    created = http.post(
        reverse("governance:meeting-new"),
        {"held_on": today().isoformat(), "title": "Ad hoc", "location": "Room 4"},
    )
    meeting = Meeting.objects.get()
    assert created.url == meeting.get_absolute_url()
    assert meeting.created_by == member
    http.post(reverse("governance:meeting-agenda-build", args=[meeting.pk]))
    http.post(reverse("governance:meeting-agenda-add", args=[meeting.pk]), {"text": "AOB"})
    http.post(
        reverse("governance:meeting-attendance", args=[meeting.pk]),
        {"present": [str(chair.pk), str(third.pk)]},
    )

    page = http.get(meeting.get_absolute_url()).text
    assert "Build the agenda" in page
    assert f'href="{proposal.get_absolute_url()}"' in page
    assert "AOB" in page
    assert f'value="{chair.pk}" checked' in page
    assert f'value="{member.pk}">' in page
    assert Attendance.objects.filter(meeting=meeting, present=True).count() == 2


@pytest.mark.parametrize("name", ["meeting-list", "interest-register"])
def test_kams_and_outsiders_are_refused(client_as, kam: User, outsider: User, name: str) -> None:
    for user in (kam, outsider):
        assert client_as(user).get(reverse(f"governance:{name}")).status_code == 403


def test_kams_and_outsiders_cannot_read_a_meetings_minutes(
    client_as, kam: User, outsider: User, meeting: Meeting
) -> None:
    for user in (kam, outsider):
        for name in ("meeting-detail", "meeting-minutes"):
            url = reverse(f"governance:{name}", args=[meeting.pk])
            assert client_as(user).get(url).status_code == 403


def test_a_director_reads_meetings_but_keeps_none(
    client_as, director: User, meeting: Meeting, committee: list[User]
) -> None:
    http = client_as(director)
    for url in (
        reverse("governance:meeting-list"),
        meeting.get_absolute_url(),
        reverse("governance:meeting-minutes", args=[meeting.pk]),
        reverse("governance:interest-register"),
    ):
        assert http.get(url).status_code == 200
    assert "Build the agenda" not in http.get(meeting.get_absolute_url()).text

    assert http.get(reverse("governance:meeting-new")).status_code == 403
    for name in ("meeting-agenda-build", "meeting-attendance", "meeting-agenda-add"):
        url = reverse(f"governance:{name}", args=[meeting.pk])
        assert http.post(url, {"text": "x"}).status_code == 403
    refused = http.post(
        reverse("governance:interest-register"),
        {"kam": committee[0].pk, "description": "Nothing"},
    )
    assert refused.status_code == 403
    assert not AgendaItem.objects.exists()
    assert not MemberInterest.objects.exists()


# --- Queries do not grow with the agenda --------------------------------------------------------


def _fill_agenda(meeting: Meeting, committee: list[User], run: EvaluationRun, n: int) -> None:
    """``n`` proposals (some closed, with recusals and votes), review items and decisions."""
    chair, member, third = committee
    for i in range(n):
        proposal = opened(by=chair, title=f"Proposal {i}")
        recuse(proposal=proposal, member=third, reason=f"Reason {i}")
        vote_cast(proposal=proposal, member=member, choice="for", comment=f"Comment {i}")
        if i % 2:
            vote_cast(proposal=proposal, member=chair, choice="for")
            AgendaItem.objects.create(
                meeting=meeting, order=1000 + i, kind=AgendaKind.PROPOSAL, proposal=proposal
            )
            proposal_close(proposal=proposal, early=True)
        review_item(run)
        decided(by=chair, review_in_days=i)
    agenda_build(meeting=meeting)
    agenda_item_add(meeting=meeting, text="Other business")
    attendance_record(meeting=meeting, present_ids=[chair.pk, member.pk])


def _queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


# Signing in (``SIGN_IN_QUERIES``), one for the meeting, then the page's own reads: attendance,
# agenda, the seated committee, its board packs (detail); agenda, proposals with their tallies,
# recusals, votes, the seated committee, attendance (minutes).
DETAIL_QUERIES = SIGN_IN_QUERIES + 5
MINUTES_QUERIES = SIGN_IN_QUERIES + 7


@pytest.mark.parametrize("n", [1, 6])
def test_the_meeting_page_and_its_minutes_cost_the_same_however_long_the_agenda(
    client_as,
    meeting: Meeting,
    committee: list[User],
    run: EvaluationRun,
    n: int,
) -> None:
    _fill_agenda(meeting, committee, run, n)
    assert AgendaItem.objects.filter(meeting=meeting).count() == 3 * n + 1
    http = client_as(committee[1])

    assert _queries(http, meeting.get_absolute_url()) == DETAIL_QUERIES
    assert (
        _queries(http, reverse("governance:meeting-minutes", args=[meeting.pk])) == MINUTES_QUERIES
    )


def test_the_meeting_list_costs_the_same_however_many_meetings(client_as, chair: User) -> None:
    for i in range(30):
        meeting_create(held_on=today() - days(i), title=f"Session {i}", by=chair)
    http = client_as(chair)

    assert _queries(http, reverse("governance:meeting-list")) == SIGN_IN_QUERIES + 2


# Who reads named votes: a line of the policy in force ----------------------------------------


@pytest.mark.parametrize(
    ("read_by", "readers"),
    [
        (None, {"chair", "member", "director"}),  # no policy in force: the default line
        ("directors", {"chair", "member", "director"}),
        ("committee", {"chair", "member"}),
    ],
)
def test_named_votes_and_comments_are_read_as_the_policy_in_force_says(
    client_as,
    meeting: Meeting,
    committee: list[User],
    sitting: dict[str, Proposal],
    cast: dict[str, User],
    read_by: str | None,
    readers: set[str],
) -> None:
    """On the proposal's page and in the minutes; the administrator never reads them (nor do
    KAMs and outsiders, who do not see proposals at all)."""
    if read_by:
        PolicyFactory(status=PolicyStatus.IN_FORCE, named_votes_read_by=read_by)
    proposal = sitting["open"]
    for role in ("chair", "member", "director", "administrator"):
        http = client_as(cast[role])
        page = http.get(proposal.get_absolute_url()).text
        minutes_page = http.get(reverse("governance:meeting-minutes", args=[meeting.pk])).text
        for text in (page, minutes_page):
            assert ("Margin too thin" in text) == (role in readers), (role, read_by)
            assert ("named-votes-hidden" in text) == (role not in readers)
        assert 'data-testid="tally-against">2<' in page  # the tally stays everyone's
