"""Exception requests: a KAM asks to go past the mandate; the tier the deal falls in decides, a
deputy stands in for an approver away, and a request left unanswered escalates one tier up.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.refusals import STATE, ChangedMeanwhile, NotAllowed
from governance.models import (
    Absence,
    Approver,
    EscalationTier,
    ExceptionRequest,
    ExceptionState,
    Mandate,
    Proposal,
    ProposalState,
)
from governance.permissions import ADD_PROPOSAL, VIEW_EXCEPTION_REQUEST, VIEW_OWN_MANDATE
from governance.recipients import approver_roles_of, approvers_for
from governance.shell.mandates import mandate_check
from governance.shell.notifications import notify_exception_filed
from governance.webhooks import webhook_exception_decided, webhook_exception_requested

RESPONSE_TIME = datetime.timedelta(days=2)


class AlreadyDecided(ChangedMeanwhile):
    """The request was decided or withdrawn already."""


class CommitteeDecides(NotAllowed):
    """A request at the committee's tier is decided by the committee's vote on a proposal,
    never by one person (the chair included)."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This request is at the committee's tier: the committee decides it by a vote, "
                "not one person. Propose it to the committee; the proposal's outcome approves "
                "or rejects it."
            )
        )


class TermsChanged(ChangedMeanwhile):
    """What the request asks differs from what the committee voted on."""


def exception_requests_visible_to(user: User) -> QuerySet[ExceptionRequest]:
    """The requests ``user`` may see: all of them for the committee, directors and the
    administrator; a KAM the ones they filed; nobody else any."""
    if user.has_perm(VIEW_EXCEPTION_REQUEST):
        return ExceptionRequest.objects.all()
    if user.has_perm(VIEW_OWN_MANDATE):
        return ExceptionRequest.objects.filter(requested_by=user)
    return ExceptionRequest.objects.none()


def exception_file(
    *,
    kam: User,
    client_id: int,
    asked: dict[str, Decimal],
    justification: str,
    deal: str = "",
) -> ExceptionRequest:
    """Ask to go past the mandate for one deal. The check decides which limits are passed and
    who decides; a deal inside the mandate needs no exception."""
    if not justification.strip():
        raise ValidationError({"justification": _("Say why the deal is worth the exception.")})
    check = mandate_check(kam=kam, client_id=client_id, asked=asked)
    if check.within_mandate:
        raise ValidationError(_("This deal is within your mandate: you decide it yourself."), STATE)
    with transaction.atomic():
        request = ExceptionRequest.objects.create(
            mandate=check.mandate,
            client_id=client_id,
            requested_by=kam,
            asked={kind: str(value) for kind, value in asked.items()},
            breaches=[
                {"limit": b.limit, "allowed": str(b.allowed), "asked": str(b.asked)}
                for b in check.breaches
            ],
            justification=justification,
            deal=deal.strip(),
            approver=check.escalate_to,
            respond_by=timezone.now() + RESPONSE_TIME,
        )
        notify_exception_filed(request=request)
        webhook_exception_requested(request=request)
    return request


def may_decide(*, user: User, request: ExceptionRequest, roles: set[str] | None = None) -> bool:
    """Whether ``user`` decides this request; pass ``roles`` when asking for many requests.
    Nobody decides their own request, at any tier, as deputy or not; nobody alone decides one
    at the committee's tier (a proposal's vote does)."""
    if request.requested_by_id == user.pk or request.approver == Approver.COMMITTEE:
        return False
    if roles is None:
        roles = approver_roles_of(user)
    return request.approver in roles


def exception_decide(
    *, request: ExceptionRequest, by: User, approve: bool, comment: str = ""
) -> ExceptionRequest:
    """Approve or reject, once, by the approver of the request's tier (or their deputy): of two
    approvers acting at once, one decides and the other is told it was decided already; a
    request escalated meanwhile is refused to the tier it left. One conditional update, not a
    read-then-write. Nobody decides their own request (``NotAllowed``); nobody alone decides
    one at the committee's tier, the chair included (``CommitteeDecides``): the committee's vote
    on a proposal does, through ``exception_decide_by_committee``."""
    if request.requested_by_id == by.pk:
        raise NotAllowed(_("Nobody decides their own request: it waits for another approver."))
    if request.approver == Approver.COMMITTEE:
        raise CommitteeDecides
    with transaction.atomic():
        decided = (
            _pending_for(by)
            .filter(pk=request.pk)
            .update(
                state=ExceptionState.APPROVED if approve else ExceptionState.REJECTED,
                decided_by=by,
                decided_at=timezone.now(),
                decision_comment=comment,
            )
        )
        if decided:
            webhook_exception_decided(request=request, by=by, approved=approve)
    if not decided:
        request.refresh_from_db()
        if request.is_for_the_committee:
            raise CommitteeDecides
    return _changed_or_refused(
        request, decided, _("This request is decided at another tier of escalation.")
    )


def exception_terms(request: ExceptionRequest) -> dict[str, object]:
    """What a request asks, as the committee votes on it: whose request, for which account
    and mandate, the limits it passes with the amounts asked, the deal and why. Frozen on the
    proposal when its vote opens; the decision refuses a request that differs."""
    return {
        "exception_request": request.pk,
        "kam": {"id": request.requested_by_id, "name": str(request.requested_by)},
        "client": {"id": request.client_id, "name": request.client.name},
        "mandate": request.mandate_id,
        "asked": request.asked,
        "breaches": request.breaches,
        "deal": request.deal,
        "justification": request.justification,
    }


def exception_decide_by_committee(
    *, request: ExceptionRequest, proposal: Proposal, approve: bool
) -> ExceptionRequest:
    """Apply the committee's vote on ``proposal`` to the request it decides: approved when the
    proposal is adopted, rejected when it is rejected — recorded as decided by the committee
    (``decided_in``), by no single person. Called by the close of the vote, in its
    transaction, under the request's row lock. A request no longer pending at the committee's
    tier (``AlreadyDecided``), or asking other than what was frozen on the proposal when its
    vote opened (``TermsChanged``), is refused, and the close with it."""
    with transaction.atomic():
        locked = (
            ExceptionRequest.objects.select_for_update()
            .select_related("client", "requested_by")
            .get(pk=request.pk)
        )
        if not locked.is_for_the_committee:
            raise AlreadyDecided(
                _(
                    "This request is no longer waiting for the committee: it was decided or "
                    "withdrawn meanwhile."
                )
            )
        if proposal.version_content and exception_terms(locked) != proposal.version_content:
            raise TermsChanged(
                _(
                    "The request differs from what the committee voted on (digest "
                    "%(digest)s): this vote does not decide it."
                )
                % {"digest": proposal.version_digest[:12]}
            )
        ExceptionRequest.objects.filter(pk=locked.pk).update(
            state=ExceptionState.APPROVED if approve else ExceptionState.REJECTED,
            decided_by=None,
            decided_in=proposal,
            decided_at=timezone.now(),
            decision_comment="",
        )
        webhook_exception_decided(request=locked, by=None, approved=approve, proposal=proposal.pk)
    locked.refresh_from_db()
    return locked


def may_propose(*, user: User, request: ExceptionRequest) -> bool:
    """Whether ``user`` may put this request to the committee: it waits at the committee's
    tier, and they propose to the committee; never the KAM who asked."""
    return (
        request.is_for_the_committee
        and request.requested_by_id != user.pk
        and user.has_perm(ADD_PROPOSAL)
    )


# What a list joins to say who decided a request the committee decided (the proposal's title,
# said from its subject when none was typed): no query per row.
DECIDED_IN = (
    "decided_in",
    "decided_in__exception_request__client",
    "decided_in__exception_request__requested_by",
)


def exception_requests_with_proposal(
    queryset: QuerySet[ExceptionRequest],
) -> QuerySet[ExceptionRequest]:
    """``queryset`` annotated with ``open_proposal_id``: the proposal before the committee
    that decides the request, if any (one subquery, no query per row)."""
    open_proposal = Proposal.objects.filter(
        exception_request=models.OuterRef("pk"), state=ProposalState.OPEN
    )
    return queryset.annotate(open_proposal_id=models.Subquery(open_proposal.values("pk")[:1]))


def exception_withdraw(*, request: ExceptionRequest, by: User) -> ExceptionRequest:
    """The KAM who asked withdraws a pending request (one conditional update). A proposal
    before the committee to decide it is withdrawn with it, in the same transaction: its vote
    has nothing left to decide. The proposal's row is locked first, as its close does."""
    with transaction.atomic():
        open_proposals = list(
            Proposal.objects.select_for_update()
            .filter(exception_request=request.pk, state=ProposalState.OPEN)
            .values_list("pk", flat=True)
        )
        withdrawn = ExceptionRequest.objects.filter(
            pk=request.pk, state=ExceptionState.PENDING, requested_by=by
        ).update(state=ExceptionState.WITHDRAWN)
        if withdrawn and open_proposals:
            Proposal.objects.filter(pk__in=open_proposals).update(
                state=ProposalState.WITHDRAWN, closed_at=timezone.now()
            )
    return _changed_or_refused(request, withdrawn, _("Only the KAM who asked withdraws a request."))


def _changed_or_refused(request: ExceptionRequest, changed: int, refusal: str) -> ExceptionRequest:
    """The request as the update left it; when it changed nothing, why: it is no longer
    pending (``AlreadyDecided``), or it is not this person's to change (``PermissionDenied``)."""
    request.refresh_from_db()
    if changed:
        return request
    if request.state != ExceptionState.PENDING:
        raise AlreadyDecided(_("This request was decided or withdrawn already."))
    raise PermissionDenied(refusal)


def exceptions_granted_by_client(*, mandate: Mandate, since: datetime.date) -> dict[int, int]:
    """Per account of the mandate, the exceptions approved since a day (one query)."""
    rows = (
        ExceptionRequest.objects.filter(
            mandate__kam_id=mandate.kam_id,
            client_id__in=[account.client_id for account in mandate.accounts.all()],
            state=ExceptionState.APPROVED,
            decided_at__date__gte=since,
        )
        .values("client_id")
        .annotate(count=models.Count("pk"))
    )
    return {row["client_id"]: row["count"] for row in rows}


NEXT_APPROVER = {
    Approver.HEAD_OF_KAM: Approver.SALES_DIRECTOR,
    Approver.SALES_DIRECTOR: Approver.COMMITTEE,
}


def exceptions_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Requests not answered by their deadline go one tier up with a fresh deadline (set-based:
    one conditional update per tier; a request decided meanwhile is left alone)."""
    now = now or timezone.now()
    moved = 0
    # Highest tier first, so that a request moves at most one tier per call.
    for current in (Approver.SALES_DIRECTOR, Approver.HEAD_OF_KAM):
        moved += (
            ExceptionRequest.objects.overdue(now)
            .filter(approver=current)
            .update(
                approver=NEXT_APPROVER[current], respond_by=now + RESPONSE_TIME, reminded_at=None
            )
        )
    return moved


@dataclass(frozen=True)
class LadderPerson:
    """Someone who answers at a step today; ``away_until`` for a holder who is away (their
    deputy is listed too), ``deputy_for`` for a deputy standing in."""

    user: User
    away_until: datetime.date | None = None
    deputy_for: User | None = None


@dataclass
class LadderStep:
    approver: str
    up_to_deal_value: Decimal | None
    people: list[LadderPerson]
    answer_within: datetime.timedelta = RESPONSE_TIME

    @property
    def label(self) -> str:
        return str(Approver(self.approver).label)

    @property
    def answer_within_days(self) -> int:
        return self.answer_within.days

    @property
    def answering_now(self) -> list[LadderPerson]:
        """Who must answer at this step today: its holders who are in, and the deputies of
        those away."""
        return [person for person in self.people if person.away_until is None]


def escalation_ladder(*, day: datetime.date | None = None) -> list[LadderStep]:
    """Who decides past a KAM's limits, step by step, as it stands today: each tier of
    escalation by deal value, then the steps an unanswered request climbs to (``NEXT_APPROVER``
    up to the committee), each with the people who answer it today — the approvers of the
    tier (``approvers_for``) and, for one away, the deputy named for the absence — and the time
    they have to answer before the request goes one step up."""
    day = day or timezone.localdate()
    steps: list[LadderStep] = []
    for tier in EscalationTier.objects.order_by("order"):
        if tier.approver not in {step.approver for step in steps}:
            steps.append(LadderStep(tier.approver, tier.up_to_deal_value, []))
    climbing = steps[-1].approver if steps else Approver.HEAD_OF_KAM
    if not steps:
        steps.append(LadderStep(climbing, None, []))
    while climbing in NEXT_APPROVER:
        climbing = NEXT_APPROVER[climbing]
        if climbing not in {step.approver for step in steps}:
            steps.append(LadderStep(climbing, None, []))
    absences = {
        absence.user_id: absence
        for absence in Absence.objects.filter(starts_on__lte=day, ends_on__gte=day).select_related(
            "user", "deputy"
        )
    }
    deputies = {absence.deputy_id: absence for absence in absences.values()}
    for step in steps:
        for user in sorted(
            approvers_for(step.approver, day=day),
            key=lambda u: (u.last_name, u.first_name, u.pk),
        ):
            if user.pk in absences:
                step.people.append(LadderPerson(user, away_until=absences[user.pk].ends_on))
            elif user.pk in deputies:
                step.people.append(LadderPerson(user, deputy_for=deputies[user.pk].user))
            else:
                step.people.append(LadderPerson(user))
    return steps


def ladder_from(ladder: list[LadderStep], approver: str | None) -> list[LadderStep]:
    """The steps a request decided by ``approver`` climbs while unanswered, ``approver``
    first."""
    by_approver = {step.approver: step for step in ladder}
    path = []
    while approver:
        if approver in by_approver:
            path.append(by_approver[approver])
        approver = NEXT_APPROVER.get(approver)
    return path


@dataclass(frozen=True)
class AwaitedAnswer:
    """A pending request and the step of the escalation ladder it waits on now: who must
    answer it today (``step.answering_now``) and by when (``request.respond_by``)."""

    request: ExceptionRequest
    step: LadderStep


def answers_awaited(
    requests: Iterable[ExceptionRequest], *, ladder: list[LadderStep] | None = None
) -> list[AwaitedAnswer]:
    """Who must answer each of ``requests`` now, read off the escalation ladder that My
    mandate shows (``escalation_ladder``): the people of the step the request is at, or their
    deputies today. The same queries however many requests, none for no request."""
    requests = list(requests)
    if not requests:
        return []
    ladder = escalation_ladder() if ladder is None else ladder
    awaited = []
    for request in requests:
        path = ladder_from(ladder, request.approver)
        step = path[0] if path else LadderStep(request.approver, None, [])
        awaited.append(AwaitedAnswer(request=request, step=step))
    return awaited


def exception_requests_waiting(*, kam: User) -> QuerySet[ExceptionRequest]:
    """The KAM's own requests still waiting for an answer, the soonest due first: what they
    wait for, on their home page."""
    return (
        ExceptionRequest.objects.filter(requested_by=kam, state=ExceptionState.PENDING)
        .select_related("client")
        .order_by("respond_by", "pk")
    )


def _pending_for(user: User) -> QuerySet[ExceptionRequest]:
    """The pending requests ``user`` may decide today (``may_decide``'s rule, as a query): of
    the tiers they hold or stand in for as deputy, never their own. The committee's tier is
    never a person's, whatever their seat (the chair decides every other tier): a request
    escalated to it is left to the committee's vote."""
    roles = approver_roles_of(user) - {Approver.COMMITTEE}
    return ExceptionRequest.objects.filter(
        state=ExceptionState.PENDING, approver__in=roles
    ).exclude(requested_by=user)


def exception_requests_to_decide(user: User) -> QuerySet[ExceptionRequest]:
    """The pending requests ``user`` answers today (``_pending_for``), the soonest due first:
    what waits on an approver, on their home page."""
    return _pending_for(user).select_related("client", "requested_by").order_by("respond_by", "pk")
