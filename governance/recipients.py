"""Who must hear of something, or act on it: the members entitled to vote on a proposal, the
approvers of an exception tier (and the deputies of those away).

A leaf: it reads models only, so that mail, services and pages of every context can ask it.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone

from accounts.models import User
from governance.models import (
    Absence,
    Approver,
    CommitteeMember,
    Proposal,
    Recusal,
)


def stake_in(proposal: int | models.Expression) -> models.Exists:
    """Whether the user of the outer query (``OuterRef("pk")``) has a stake in the proposal
    (a pk, or an expression naming it): the person a seat proposal is about, the KAM of a
    mandate to grant, the owner or a team member of the client a proposal is about, the KAM
    who asked for the exception a proposal decides. Who has a
    stake stands aside by rule: nobody decides their own request, here or at any tier."""
    user = models.OuterRef("pk")
    return models.Exists(
        Proposal.objects.filter(pk=proposal).filter(
            models.Q(nominee=user)
            | models.Q(mandate__kam=user)
            | models.Q(client__owner_kam=user)
            | models.Q(client__team_members__user=user)
            | models.Q(exception_request__requested_by=user)
        )
    )


def has_stake(*, proposal: Proposal, user: User) -> bool:
    """Whether ``user`` stands aside on ``proposal`` by rule (see ``stake_in``)."""
    return User.objects.filter(pk=user.pk).filter(stake_in(proposal.pk)).exists()


def entitled_members(*, proposal: Proposal, day: datetime.date | None = None) -> list[User]:
    """Committee members with a seat on ``day`` who have not recused themselves and have no
    stake in the proposal."""
    day = day or timezone.localdate()
    recused = Recusal.objects.filter(proposal=proposal).values("member_id")
    return list(
        User.objects.filter(
            committee_seats__in=CommitteeMember.objects.active_on(day), is_active=True
        )
        .exclude(pk__in=recused)
        .exclude(stake_in(proposal.pk))
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def members_seated_on(day: datetime.date) -> list[User]:
    """The committee on ``day``: members with a seat, active accounts."""
    return list(
        User.objects.filter(
            committee_seats__in=CommitteeMember.objects.active_on(day), is_active=True
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def approver_roles_of(user: User, *, day: datetime.date | None = None) -> set[str]:
    """The tiers ``user`` decides today: their seat's role, and the roles of members who are
    away and named them deputy; every tier for the chair or the chair's deputy (two queries).
    Only a seated member decides anything: an absence naming someone without a seat (written
    before the rule, or past the services) gives them nothing."""

    day = day or timezone.localdate()
    away_for = Absence.objects.filter(deputy=user, starts_on__lte=day, ends_on__gte=day).values(
        "user_id"
    )
    seats = list(
        CommitteeMember.objects.active_on(day).filter(
            models.Q(user=user) | models.Q(user_id__in=away_for)
        )
    )
    if not any(seat.user_id == user.pk for seat in seats):
        return set()
    if any(seat.is_chair for seat in seats):
        return set(Approver.values)
    return {seat.committee_role for seat in seats}


def approvers_for(approver: str, *, day: datetime.date | None = None) -> list[User]:
    """Who is asked to decide a tier today: the members holding it (the chair when nobody
    does; every member for the committee's tier), and the deputies of those who are away."""
    day = day or timezone.localdate()
    seats = CommitteeMember.objects.active_on(day)
    if approver != Approver.COMMITTEE:
        holding = seats.filter(committee_role=approver)
        seats = holding if holding.exists() else seats.filter(is_chair=True)
    holders = seats.values("user_id")
    deputies = Absence.objects.filter(
        user_id__in=holders,
        starts_on__lte=day,
        ends_on__gte=day,
        deputy_id__in=CommitteeMember.objects.active_on(day).values("user_id"),
    ).values("deputy_id")
    return list(
        User.objects.filter(models.Q(pk__in=holders) | models.Q(pk__in=deputies), is_active=True)
    )
