"""Seats on the committee and its chair. They change only by the committee's own decision (a
proposal to give a seat, end one or hand the chair, applied by ``decision_apply``), except the
first set-up of an empty committee, which ``manage.py committee_setup`` does once and records
who ran it. Nobody edits a seat directly: the Django admin shows seats read-only.

A seat and the role group go together: whoever holds the chair is in the chair's group, a
seated member in the members' group, and someone whose last seat ended in neither.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import ChangedMeanwhile
from accounts.roles import Role
from governance.models import CommitteeMember, CommitteeRole, Proposal, ProposalType


class CommitteeAlreadySetUp(ChangedMeanwhile):
    """The first set-up is done once: seats exist, and only the committee changes them now."""


@dataclass(frozen=True)
class SeatPlan:
    """One seat of the first set-up."""

    user: User
    committee_role: str
    is_chair: bool = False


def seat_of(user: User, *, day: datetime.date | None = None) -> CommitteeMember | None:
    """``user``'s seat on ``day`` (today by default), or None."""
    day = day or timezone.localdate()
    return CommitteeMember.objects.active_on(day).filter(user=user).first()


def _groups_follow_seats(user: User, *, day: datetime.date) -> None:
    """Put ``user`` in the committee group their seat gives (chair or member), or none."""
    seat = CommitteeMember.objects.active_on(day).filter(user=user).order_by("-is_chair").first()
    committee_groups = Group.objects.filter(name__in=[Role.COMMITTEE_CHAIR, Role.COMMITTEE_MEMBER])
    user.groups.remove(*committee_groups)
    if seat is not None:
        role = Role.COMMITTEE_CHAIR if seat.is_chair else Role.COMMITTEE_MEMBER
        user.groups.add(Group.objects.get(name=role))


def committee_setup(
    *, seats: list[SeatPlan], by: User, day: datetime.date | None = None
) -> list[CommitteeMember]:
    """Seat the first committee, once: refused when any seat exists already (the committee
    changes itself by its decisions from then on). Exactly one chair; one seat per person;
    ``by`` — who ran the set-up — is recorded on every seat."""
    day = day or timezone.localdate()
    if not seats:
        raise ValidationError(_("Name at least one member of the committee."))
    if sum(plan.is_chair for plan in seats) != 1:
        raise ValidationError(_("The committee has exactly one chair."))
    if len({plan.user.pk for plan in seats}) != len(seats):
        raise ValidationError(_("One seat per person."))
    for plan in seats:
        if plan.committee_role not in CommitteeRole.values:
            raise ValidationError(
                _("%(role)s is not a role on the committee.") % {"role": plan.committee_role}
            )
        if not plan.user.is_active:
            raise ValidationError(_("%(user)s cannot sign in.") % {"user": plan.user})
    with transaction.atomic():
        # One set-up at a time: the table lock keeps two runs from both finding it empty.
        list(CommitteeMember.objects.select_for_update().all())
        if CommitteeMember.objects.exists():
            raise CommitteeAlreadySetUp(
                _(
                    "The committee is set up already: its seats and chair change only by its "
                    "own decisions."
                )
            )
        created = CommitteeMember.objects.bulk_create(
            CommitteeMember(
                user=plan.user,
                committee_role=plan.committee_role,
                is_chair=plan.is_chair,
                active_from=day,
                set_up_by=by,
            )
            for plan in seats
        )
        for plan in seats:
            _groups_follow_seats(plan.user, day=day)
    return created


def seat_refusals(
    *, type: str, nominee: User | None, committee_role: str, day: datetime.date | None = None
) -> dict[str, str]:
    """Why a proposal about a seat cannot be put, field by field (empty when it can)."""
    day = day or timezone.localdate()
    if nominee is None:
        return {"nominee": _("Name the person the proposal is about.")}
    seat = seat_of(nominee, day=day)
    if type == ProposalType.SEAT_GIVE:
        if seat is not None:
            return {"nominee": _("%(user)s holds a seat already.") % {"user": nominee}}
        if not nominee.is_active:
            return {"nominee": _("%(user)s cannot sign in.") % {"user": nominee}}
        if committee_role not in CommitteeRole.values:
            return {"committee_role": _("Say in which role the seat is given.")}
        return {}
    if seat is None:
        return {"nominee": _("%(user)s holds no seat on the committee.") % {"user": nominee}}
    if seat.is_chair:
        if type == ProposalType.CHAIR:
            return {"nominee": _("%(user)s chairs the committee already.") % {"user": nominee}}
        return {"nominee": _("The chair's seat ends once the chair is handed to another member.")}
    return {}


def seat_decision_apply(*, proposal: Proposal, day: datetime.date) -> None:
    """Apply an adopted proposal about a seat, in the adoption's transaction. The state is
    checked again under the seats' lock: a seat given or ended meanwhile is refused."""
    nominee = proposal.nominee
    list(CommitteeMember.objects.select_for_update().all())
    refusals = seat_refusals(
        type=proposal.type, nominee=nominee, committee_role=proposal.committee_role, day=day
    )
    if refusals:
        raise ChangedMeanwhile(" ".join(refusals.values()))
    if proposal.type == ProposalType.SEAT_GIVE:
        CommitteeMember.objects.create(
            user=nominee,
            committee_role=proposal.committee_role,
            active_from=day,
            given_by=proposal,
        )
    elif proposal.type == ProposalType.SEAT_END:
        seat = seat_of(nominee, day=day)
        # From the day of the decision the member no longer sits (a seat given the same day
        # cannot end before it began: it ends that day).
        seat.active_to = max(day - datetime.timedelta(days=1), seat.active_from)
        seat.save(update_fields=["active_to"])
    elif proposal.type == ProposalType.CHAIR:
        chairs = list(CommitteeMember.objects.active_on(day).filter(is_chair=True))
        CommitteeMember.objects.filter(pk__in=[c.pk for c in chairs]).update(is_chair=False)
        CommitteeMember.objects.active_on(day).filter(user=nominee).update(is_chair=True)
        for chair in chairs:
            _groups_follow_seats(chair.user, day=day)
    _groups_follow_seats(nominee, day=day)
