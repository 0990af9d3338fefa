"""The mandate: which accounts a KAM works, the limits of what they decide alone, and who
decides past them. ``mandate_check`` is the fool-proofing the method asks for: the web page and
``POST /api/mandate-check/`` both call it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, User
from governance.models import (
    Approver,
    EscalationTier,
    ExceptionRequest,
    ExceptionState,
    LimitKind,
    Mandate,
    MandateAccount,
    MandateStatus,
)
from governance.notifications import notify_exception_filed

# The limits a check compares, in the order they are reported.
CHECKED = (LimitKind.DISCOUNT, LimitKind.DEAL_VALUE, LimitKind.PAYMENT_TERM, LimitKind.CREDIT)


class NotInMandate(Exception):
    """The client is not among the accounts of the user's mandate in force today."""


@dataclass(frozen=True)
class Breach:
    limit: str
    allowed: Decimal
    asked: Decimal

    @property
    def label(self) -> str:
        return str(LimitKind(self.limit).label)


@dataclass
class MandateCheck:
    mandate: Mandate
    breaches: list[Breach] = field(default_factory=list)
    escalate_to: str | None = None

    @property
    def within_mandate(self) -> bool:
        return not self.breaches

    @property
    def escalate_to_label(self) -> str:
        return str(Approver(self.escalate_to).label) if self.escalate_to else ""


def mandate_in_force(*, kam: User, day: datetime.date | None = None) -> Mandate | None:
    """The KAM's mandate in force and valid on ``day``; an expired one grants nothing."""
    day = day or timezone.localdate()
    mandate = (
        Mandate.objects.filter(kam=kam, status=MandateStatus.IN_FORCE)
        .prefetch_related("accounts__client", "team__user", "methods")
        .first()
    )
    return mandate if mandate is not None and mandate.is_valid_on(day) else None


def mandate_account(
    *, kam: User, client_id: int, day: datetime.date | None = None
) -> tuple[Mandate, MandateAccount]:
    """The KAM's mandate in force and its account for this client (one query), or
    ``NotInMandate`` saying which of the two is missing."""
    day = day or timezone.localdate()
    account = (
        MandateAccount.objects.select_related("mandate")
        .filter(mandate__kam=kam, mandate__status=MandateStatus.IN_FORCE, client_id=client_id)
        .first()
    )
    if account is not None and account.mandate.is_valid_on(day):
        return account.mandate, account
    mandate = Mandate.objects.filter(kam=kam, status=MandateStatus.IN_FORCE).first()
    if mandate is None or not mandate.is_valid_on(day):
        raise NotInMandate(_("You hold no mandate in force."))
    raise NotInMandate(_("This client is not among the accounts of your mandate."))


def limits_of(mandate: Mandate, account: MandateAccount) -> dict[str, Decimal]:
    """Each limit for this account: the account's override where set, else the mandate's.
    A limit set nowhere is zero: no authority is assumed that was not given."""
    return {
        kind: (account.limit(kind) if account.limit(kind) is not None else mandate.limit(kind))
        or Decimal(0)
        for kind in LimitKind.values
    }


def escalation_for(deal_value: Decimal | None) -> str:
    """Who decides past the limits, by the deal's value (the committee when no tier fits)."""
    for tier in EscalationTier.objects.order_by("order"):
        if tier.up_to_deal_value is None or deal_value is None:
            return tier.approver
        if deal_value <= tier.up_to_deal_value:
            return tier.approver
    return "committee"


def mandate_check(
    *, kam: User, client_id: int, asked: dict[str, Decimal], day: datetime.date | None = None
) -> MandateCheck:
    """Whether what ``kam`` is about to agree with the client stays inside the mandate.

    Raises ``NotInMandate`` for a client outside the KAM's mandate in force."""
    mandate, account = mandate_account(kam=kam, client_id=client_id, day=day)
    limits = limits_of(mandate, account)
    result = MandateCheck(mandate=mandate)
    for kind in CHECKED:
        value = asked.get(kind)
        if value is not None and value > limits[kind]:
            result.breaches.append(Breach(limit=kind, allowed=limits[kind], asked=value))
    if result.breaches:
        result.escalate_to = escalation_for(asked.get(LimitKind.DEAL_VALUE))
    return result


def mandate_adopt(*, mandate: Mandate) -> Mandate:
    """Put a draft mandate in force for its KAM, superseding the one in force. Called by an
    adopted committee proposal, in its transaction."""
    with transaction.atomic():
        list(Mandate.objects.select_for_update().filter(kam_id=mandate.kam_id))
        Mandate.objects.filter(kam_id=mandate.kam_id, status=MandateStatus.IN_FORCE).update(
            status=MandateStatus.SUPERSEDED
        )
        updated = Mandate.objects.filter(pk=mandate.pk, status=MandateStatus.DRAFT).update(
            status=MandateStatus.IN_FORCE, adopted_at=timezone.now()
        )
        if not updated:
            raise ValueError("Only a draft mandate can be put in force.")
    mandate.refresh_from_db()
    return mandate


def clients_of(mandate: Mandate) -> list[Client]:
    return [account.client for account in mandate.accounts.all()]


RESPONSE_TIME = datetime.timedelta(days=2)


class Moved(Exception):
    """What was acted on changed meanwhile (decided, withdrawn, taken or closed by someone
    else): the request is out of date rather than wrong (the API answers 409)."""


class AlreadyDecided(Moved):
    """The request was decided or withdrawn already."""


def exception_file(
    *, kam: User, client_id: int, asked: dict[str, Decimal], justification: str
) -> ExceptionRequest:
    """Ask to go past the mandate for one deal. The check decides which limits are passed and
    who decides; a deal inside the mandate needs no exception."""
    if not justification.strip():
        raise ValidationError({"justification": _("Say why the deal is worth the exception.")})
    check = mandate_check(kam=kam, client_id=client_id, asked=asked)
    if check.within_mandate:
        raise ValidationError(_("This deal is within your mandate: you decide it yourself."))
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
            approver=check.escalate_to,
            respond_by=timezone.now() + RESPONSE_TIME,
        )
        notify_exception_filed(request=request)
    return request


def approver_roles_of(user: User, *, day: datetime.date | None = None) -> set[str]:
    """The tiers ``user`` decides today: their seat's role, and the roles of members who are
    away and named them deputy; every tier for the chair or the chair's deputy (two queries)."""
    from governance.models import Absence, CommitteeMember

    day = day or timezone.localdate()
    away_for = Absence.objects.filter(deputy=user, starts_on__lte=day, ends_on__gte=day).values(
        "user_id"
    )
    seats = list(
        CommitteeMember.objects.active_on(day).filter(
            models.Q(user=user) | models.Q(user_id__in=away_for)
        )
    )
    if any(seat.is_chair for seat in seats):
        return set(Approver.values)
    return {seat.committee_role for seat in seats}


def may_decide(*, user: User, request: ExceptionRequest, roles: set[str] | None = None) -> bool:
    """Whether ``user`` decides this request; pass ``roles`` when asking for many requests."""
    if roles is None:
        roles = approver_roles_of(user)
    return request.approver in roles


def approvers_for(approver: str, *, day: datetime.date | None = None) -> list[User]:
    """Who is asked to decide a tier today: the members holding it (the chair when nobody
    does; every member for the committee's tier), and the deputies of those who are away."""
    from governance.models import Absence, CommitteeMember

    day = day or timezone.localdate()
    seats = CommitteeMember.objects.active_on(day)
    if approver != Approver.COMMITTEE:
        holding = seats.filter(committee_role=approver)
        seats = holding if holding.exists() else seats.filter(is_chair=True)
    holders = seats.values("user_id")
    deputies = Absence.objects.filter(
        user_id__in=holders, starts_on__lte=day, ends_on__gte=day
    ).values("deputy_id")
    return list(
        User.objects.filter(models.Q(pk__in=holders) | models.Q(pk__in=deputies), is_active=True)
    )


def exception_decide(
    *, request: ExceptionRequest, by: User, approve: bool, comment: str = ""
) -> ExceptionRequest:
    """Approve or reject, once, by the approver of the request's tier (or their deputy): of two
    approvers acting at once, one decides and the other is told it was decided already; a
    request escalated meanwhile is refused to the tier it left. One conditional update, not a
    read-then-write."""
    decided = ExceptionRequest.objects.filter(
        pk=request.pk, state=ExceptionState.PENDING, approver__in=approver_roles_of(by)
    ).update(
        state=ExceptionState.APPROVED if approve else ExceptionState.REJECTED,
        decided_by=by,
        decided_at=timezone.now(),
        decision_comment=comment,
    )
    return _changed_or_refused(
        request, decided, _("This request is decided at another tier of escalation.")
    )


def exception_withdraw(*, request: ExceptionRequest, by: User) -> ExceptionRequest:
    """The KAM who asked withdraws a pending request (one conditional update)."""
    withdrawn = ExceptionRequest.objects.filter(
        pk=request.pk, state=ExceptionState.PENDING, requested_by=by
    ).update(state=ExceptionState.WITHDRAWN)
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
        moved += ExceptionRequest.objects.filter(
            state=ExceptionState.PENDING, approver=current, respond_by__lt=now
        ).update(approver=NEXT_APPROVER[current], respond_by=now + RESPONSE_TIME, reminded_at=None)
    return moved
