"""The mandate: which accounts a KAM works, the limits of what they decide alone, and who decides
past them. ``mandate_check`` is the fool-proofing the method asks for: the web page and
``POST /api/mandate-check/`` both call it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, User
from accounts.refusals import ChangedMeanwhile, NotYours
from accounts.selectors import clients_visible_to
from governance.models import (
    MONEY_LIMITS,
    Approver,
    EscalationTier,
    LimitKind,
    Mandate,
    MandateAccount,
    MandateStatus,
)
from governance.permissions import VIEW_MANDATE, VIEW_OWN_MANDATE
from governance.webhooks import webhook_mandate_in_force

# The limits a check compares, in the order they are reported.
CHECKED = (
    LimitKind.DISCOUNT,
    LimitKind.DEAL_VALUE,
    LimitKind.PAYMENT_TERM,
    LimitKind.CREDIT,
    LimitKind.BUDGET_SPEND,
)


class MandateNotDraft(ChangedMeanwhile):
    """The mandate was put in force, superseded or ended meanwhile."""


class NotInMandate(NotYours):
    """The client is not among the accounts of the user's mandate in force today."""


@dataclass(frozen=True)
class Breach:
    limit: str
    allowed: Decimal
    asked: Decimal

    @property
    def label(self) -> str:
        return str(LimitKind(self.limit).label)

    @property
    def is_money(self) -> bool:
        return self.limit in MONEY_LIMITS


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


def mandates_visible_to(user: User) -> QuerySet[Mandate]:
    """The mandates ``user`` may see: every version of every mandate for the committee,
    directors and the administrator; a KAM the versions of their own; nobody else any."""
    if user.has_perm(VIEW_MANDATE):
        return Mandate.objects.all()
    if user.has_perm(VIEW_OWN_MANDATE):
        return Mandate.objects.filter(kam=user)
    return Mandate.objects.none()


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
        mandates = list(Mandate.objects.select_for_update().filter(kam_id=mandate.kam_id))
        Mandate.objects.filter(kam_id=mandate.kam_id, status=MandateStatus.IN_FORCE).update(
            status=MandateStatus.SUPERSEDED
        )
        updated = Mandate.objects.filter(pk=mandate.pk, status=MandateStatus.DRAFT).update(
            status=MandateStatus.IN_FORCE, adopted_at=timezone.now()
        )
        if not updated:
            raise MandateNotDraft(_("Only a draft mandate can be put in force."))
        webhook_mandate_in_force(
            mandate=mandate,
            superseded=[m.pk for m in mandates if m.status == MandateStatus.IN_FORCE],
        )
    mandate.refresh_from_db()
    return mandate


def clients_of(mandate: Mandate) -> list[Client]:
    return [account.client for account in mandate.accounts.all()]


def key_clients_outside_mandate(*, kam: User, mandate: Mandate | None) -> QuerySet[Client]:
    """Key clients ``kam`` works (owns, or is on the team of) that ``mandate`` does not name:
    worked with no limits anyone set, which the KAM must raise with the head of KAM."""
    named = MandateAccount.objects.filter(mandate=mandate).values("client_id")
    return clients_visible_to(kam).filter(is_key=True).exclude(pk__in=named).order_by("name")


@dataclass(frozen=True)
class MandateSummary:
    """A KAM's mandate in numbers, as the home page shows them: the same accounts as My
    mandate, and the key clients they work outside it."""

    mandate: Mandate | None
    accounts: int
    key_accounts: int
    key_outside: int


def mandate_summary(*, kam: User, day: datetime.date | None = None) -> MandateSummary:
    mandate = mandate_in_force(kam=kam, day=day)
    clients = clients_of(mandate) if mandate else []
    return MandateSummary(
        mandate=mandate,
        accounts=len(clients),
        key_accounts=sum(1 for client in clients if client.is_key),
        key_outside=key_clients_outside_mandate(kam=kam, mandate=mandate).count(),
    )
