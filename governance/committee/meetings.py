"""Meetings of the committee and the register of members' interests.

A meeting's agenda is built from what waits for the committee: open proposals, the clients the
ruler flagged (criteria's review items, read here, never pushed from there) and decisions due for
review. Its minutes are drawn from the agenda, the attendance, and each proposal's recusals,
votes and tally. Every read here costs the same number of queries however long the agenda is.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, User
from criteria.models import ReviewItem
from governance.committee.notifications import notify_meeting_scheduled
from governance.committee.proposals import proposals_with_tally, tally_of
from governance.drift import bets_in_force, decisions_due_for_review
from governance.models import (
    SUBJECTS,
    AgendaItem,
    AgendaKind,
    Attendance,
    Meeting,
    MemberInterest,
    Proposal,
    ProposalState,
    Recusal,
    Tally,
    Vote,
)
from governance.permissions import VIEW_DECISION
from governance.recipients import members_seated_on

REVIEW_WINDOW_DAYS = 30


# --- Meetings and their agenda ------------------------------------------------------------------


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    """The meetings ``user`` may see: all of them, with their agendas and minutes, for those who
    follow the committee (the permission to see its decisions); none for anyone else."""
    if not user.has_perm(VIEW_DECISION):
        return Meeting.objects.none()
    return Meeting.objects.all()


def meeting_create(
    *,
    held_on: datetime.date,
    title: str,
    by: User,
    starts_at: datetime.time | None = None,
    location: str = "",
    notes: str = "",
) -> Meeting:
    """Schedule a meeting; the members seated on its day are told, with an invitation for
    their calendar, once it is saved."""
    with transaction.atomic():
        meeting = Meeting.objects.create(
            held_on=held_on,
            starts_at=starts_at,
            title=title,
            location=location,
            notes=notes,
            created_by=by,
        )
        notify_meeting_scheduled(meeting=meeting)
    return meeting


def meetings_upcoming(user: User, *, today: datetime.date | None = None) -> QuerySet[Meeting]:
    """The meetings ``user`` may see from ``today`` on, the soonest first, each with the
    number of points on its agenda: a committee member's home."""
    today = today or timezone.localdate()
    return (
        meetings_visible_to(user)
        .filter(held_on__gte=today)
        .annotate(agenda_points=Count("agenda"))
        .order_by("held_on", "starts_at", "pk")
    )


def agenda_items_of(meeting: Meeting) -> list[AgendaItem]:
    """The agenda in order, with what each item points at: one query."""
    return list(
        AgendaItem.objects.filter(meeting=meeting)
        .select_related(
            *(f"proposal__{subject}" for subject in SUBJECTS),
            "review_item__client",
            "decision__client",
            "decision__proposal",
        )
        .order_by("order", "pk")
    )


def agenda_build(*, meeting: Meeting) -> int:
    """Put on the agenda every open proposal, every open review item of the ruler (but those of
    a client with an open proposal or a strategic bet in force) and every decision due for
    review within 30 days (or overdue) that is not on it yet, after what is
    there already. Idempotent: a second call adds only what has come up since. Returns the
    number of items added.

    The meeting's row lock makes concurrent builds take turns; the unique constraints are the
    backstop."""
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        on_agenda = AgendaItem.objects.filter(meeting=locked)
        proposals = (
            Proposal.objects.filter(state=ProposalState.OPEN)
            .filter(~Exists(on_agenda.filter(proposal=OuterRef("pk"))))
            .order_by("deadline", "pk")
            .values_list("pk", flat=True)
        )
        # A client flagged by the ruler comes up once: not again beside its open proposal (a
        # point of its own), nor while a strategic bet holds it key below the ruler (the bet's
        # review date brings it back, as a decision due for review).
        review_items = (
            ReviewItem.objects.filter(closed_at__isnull=True)
            .filter(~Exists(on_agenda.filter(review_item=OuterRef("pk"))))
            .exclude(
                Exists(Proposal.objects.filter(state=ProposalState.OPEN, client=OuterRef("client")))
            )
            .exclude(Exists(bets_in_force().filter(client=OuterRef("client"))))
            .order_by("opened_at", "pk")
            .values_list("pk", flat=True)
        )
        decisions = (
            decisions_due_for_review(within_days=REVIEW_WINDOW_DAYS)
            .filter(~Exists(on_agenda.filter(decision=OuterRef("pk"))))
            .order_by("review_date", "pk")
            .values_list("pk", flat=True)
        )
        last = on_agenda.aggregate(last=Max("order"))["last"] or 0
        new_items = [
            *(AgendaItem(kind=AgendaKind.PROPOSAL, proposal_id=pk) for pk in proposals),
            *(AgendaItem(kind=AgendaKind.REVIEW_ITEM, review_item_id=pk) for pk in review_items),
            *(AgendaItem(kind=AgendaKind.DECISION_REVIEW, decision_id=pk) for pk in decisions),
        ]
        for position, item in enumerate(new_items, start=last + 1):
            item.meeting = locked
            item.order = position
        AgendaItem.objects.bulk_create(new_items, batch_size=500, ignore_conflicts=True)
    return len(new_items)


def agenda_item_add(*, meeting: Meeting, text: str) -> AgendaItem:
    """A free-text point at the end of the agenda ("other business")."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write what the committee is to discuss.")})
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
        last = AgendaItem.objects.filter(meeting=locked).aggregate(last=Max("order"))["last"]
        return AgendaItem.objects.create(
            meeting=locked, order=(last or 0) + 1, kind=AgendaKind.FREE_TEXT, text=text
        )


# --- Attendance ---------------------------------------------------------------------------------


def attendance_record(*, meeting: Meeting, present_ids: set[int] | list[int]) -> list[Attendance]:
    """Record who of the committee sitting on the meeting's day was there: the members in
    ``present_ids`` present, the others absent. Recording again overwrites. Someone without a
    seat that day cannot be marked present."""
    seated = members_seated_on(meeting.held_on)
    present = {int(pk) for pk in present_ids}
    strangers = present - {member.pk for member in seated}
    if strangers:
        raise ValidationError(
            {"present": _("Only members with a seat on the committee that day attend.")}
        )
    rows = [
        Attendance(meeting=meeting, member=member, present=member.pk in present)
        for member in seated
    ]
    with transaction.atomic():
        Attendance.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["meeting", "member"],
            update_fields=["present"],
        )
    return rows


def attendance_of(meeting: Meeting) -> list[Attendance]:
    return list(
        Attendance.objects.filter(meeting=meeting)
        .select_related("member")
        .order_by("member__last_name", "member__first_name", "member__pk")
    )


# --- Minutes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedVote:
    member: User
    choice: str  # shown as the vote's label
    comment: str


@dataclass(frozen=True)
class ProposalRecord:
    """What the minutes say about a proposal: where it stands, the count, who could vote, who
    stood aside and why, and who voted how."""

    proposal: Proposal
    tally: Tally
    tally_is_final: bool
    entitled: list[str]
    recusals: list[Recusal]
    votes: list[NamedVote]

    @property
    def outcome_if_closed_now(self) -> str | None:
        """While the vote is open: what it would decide if it closed now."""
        if self.proposal.state != ProposalState.OPEN:
            return None
        return ProposalState(self.tally.outcome).label


@dataclass(frozen=True)
class MinutesItem:
    item: AgendaItem
    proposal: ProposalRecord | None = None

    @property
    def number(self) -> int:
        return self.item.order


@dataclass(frozen=True)
class Minutes:
    meeting: Meeting
    items: list[MinutesItem]
    present: list[User] = field(default_factory=list)
    absent: list[User] = field(default_factory=list)

    @property
    def attendance_recorded(self) -> bool:
        return bool(self.present or self.absent)


def minutes(*, meeting: Meeting) -> Minutes:
    """The minutes of a meeting, from its agenda, attendance and, for each proposal on it, the
    final tally once closed (the current one, and what it would mean, while open), the members
    entitled to vote, the recusals with their reasons and the named votes. Six queries, however
    long the agenda."""
    items = agenda_items_of(meeting)
    proposal_ids = [item.proposal_id for item in items if item.proposal_id]
    records = _proposal_records(proposal_ids)
    attendance = attendance_of(meeting)
    return Minutes(
        meeting=meeting,
        items=[MinutesItem(item=item, proposal=records.get(item.proposal_id)) for item in items],
        present=[row.member for row in attendance if row.present],
        absent=[row.member for row in attendance if not row.present],
    )


def _proposal_records(proposal_ids: list[int]) -> dict[int, ProposalRecord]:
    if not proposal_ids:
        return {}
    proposals = proposals_with_tally(
        Proposal.objects.filter(pk__in=proposal_ids).select_related(*SUBJECTS, "decision")
    )
    recusals: dict[int, list[Recusal]] = {pk: [] for pk in proposal_ids}
    for recusal in (
        Recusal.objects.filter(proposal_id__in=proposal_ids)
        .select_related("member")
        .order_by("created_at", "pk")
    ):
        recusals[recusal.proposal_id].append(recusal)
    votes: dict[int, list[NamedVote]] = {pk: [] for pk in proposal_ids}
    for vote in (
        Vote.objects.filter(proposal_id__in=proposal_ids, is_current=True)
        .select_related("member")
        .order_by("member__last_name", "member__first_name", "member__pk")
    ):
        votes[vote.proposal_id].append(
            NamedVote(member=vote.member, choice=vote.get_choice_display(), comment=vote.comment)
        )
    # Who may vote on an open proposal today: as ``entitled_members``, for all of them at once.
    seated = members_seated_on(timezone.localdate())
    records = {}
    for proposal in proposals:
        recused = {recusal.member_id for recusal in recusals[proposal.pk]}
        if proposal.final_tally:
            entitled = [member["name"] for member in proposal.entitled]
        elif proposal.state == ProposalState.OPEN:
            entitled = [str(member) for member in seated if member.pk not in recused]
        else:
            entitled = []
        records[proposal.pk] = ProposalRecord(
            proposal=proposal,
            tally=tally_of(proposal),
            tally_is_final=bool(proposal.final_tally),
            entitled=entitled,
            recusals=recusals[proposal.pk],
            votes=votes[proposal.pk],
        )
    return records


# --- Members' interests -------------------------------------------------------------------------


def interest_declare(
    *, member: User, description: str, client: Client | None = None, kam: User | None = None
) -> MemberInterest:
    """``member`` declares a relation to a client or a KAM, dated today."""
    if client is None and kam is None:
        raise ValidationError(_("Name the client or the key-account manager the relation is to."))
    return MemberInterest.objects.create(
        member=member,
        client=client,
        kam=kam,
        description=description.strip(),
        declared_on=timezone.localdate(),
    )


@dataclass(frozen=True)
class RecusalSuggestion:
    """A member whose declared interests touch a proposal, with the interests that do."""

    member: User
    interests: list[MemberInterest]

    @property
    def reason(self) -> str:
        """The declared relations, ready to be the reason of a recusal."""
        return "; ".join(interest.description for interest in self.interests)[:300]


def recusal_suggestions(*, proposal: Proposal) -> list[RecusalSuggestion]:
    """Members who declared a relation to the proposal's client or to the KAM who owns that
    client, and have not stood aside on it yet, with those interests; members in name order.
    Empty for a proposal with no client. One query."""
    if proposal.client_id is None:
        return []
    owned_by_kam = Client.objects.filter(pk=proposal.client_id, owner_kam=OuterRef("kam"))
    recused = Recusal.objects.filter(proposal=proposal, member=OuterRef("member"))
    interests = (
        MemberInterest.objects.filter(Q(client_id=proposal.client_id) | Exists(owned_by_kam))
        .filter(~Exists(recused))
        .select_related("member", "client", "kam")
        .order_by("member__last_name", "member__first_name", "member__pk", "-declared_on", "pk")
    )
    suggestions: dict[int, RecusalSuggestion] = {}
    for interest in interests:
        suggestion = suggestions.setdefault(
            interest.member_id, RecusalSuggestion(member=interest.member, interests=[])
        )
        suggestion.interests.append(interest)
    return list(suggestions.values())


def interests_register() -> list[MemberInterest]:
    return list(
        MemberInterest.objects.select_related("member", "client", "kam").order_by(
            "member__last_name", "member__first_name", "member__pk", "-declared_on", "-pk"
        )
    )
