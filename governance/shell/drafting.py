"""Drafting mandates in the product: the committee drafts a new mandate or a change to the one
in force, edits it part by part (budgets included), compares it with the mandate in force
(``comparing.py``), and proposes it; the vote puts it in force (``mandate_adopt``) and
allocates its budgets (``budgets_from_mandate``).

Rules, one place each:
- who may draft (``may_draft``): a committee member, never for their own mandate; not the
  administrator, not a director, not a KAM;
- what may change (``draft_stage``): a draft never proposed. Once a proposal names it, the draft
  is the record of what was proposed: frozen while the vote is open, and after a vote that did
  not adopt it, revised into a new draft (``mandate_draft_copy``);
- every save locks the mandate's row and writes each part in a fixed number of statements,
  however many accounts, team members or methods it has.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Client, User
from accounts.money import currency_sign
from accounts.numbers import amount_text
from accounts.periods import quarter_label, quarter_start
from accounts.refusals import ChangedMeanwhile, NotAllowed
from governance.models import (
    LIMIT_FIELDS,
    Budget,
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateStatus,
    MandateTeamMember,
    Proposal,
    ProposalState,
)
from governance.permissions import ADD_MANDATE
from governance.shell.budgets import spent_by_account_and_quarter as budgets_spent
from governance.shell.mandates import mandates_visible_to

LIMIT_NAMES = tuple(LIMIT_FIELDS.values())
TERMS = ("title", "valid_from", "valid_to", *LIMIT_NAMES)


class DraftFrozen(ChangedMeanwhile):
    """The draft was proposed (or put in force) meanwhile: it no longer changes."""


class Stage(models.TextChoices):
    """Where a mandate stands for the committee drafting it."""

    IN_FORCE = "in_force", gettext_lazy("In force")
    DRAFT = "draft", gettext_lazy("Draft")
    PROPOSED = "proposed", gettext_lazy("Before the committee")
    NOT_ADOPTED = "not_adopted", gettext_lazy("Not adopted")
    ENDED = "ended", gettext_lazy("Ended")


# A draft's proposal in one of these still stands: the draft stays as it was proposed.
STANDING = (ProposalState.DRAFT, ProposalState.OPEN)


def draft_stage(mandate: Mandate, *, proposal_state: str | None, day: datetime.date) -> str:
    """The stage of ``mandate`` given the state of the last proposal naming it (None: never
    proposed): the one rule the list, the draft page and the saves share."""
    if mandate.status == MandateStatus.IN_FORCE:
        return Stage.IN_FORCE if mandate.is_valid_on(day) else Stage.ENDED
    if mandate.status != MandateStatus.DRAFT:
        return Stage.ENDED
    if mandate.under_vote or proposal_state in STANDING:
        return Stage.PROPOSED
    if proposal_state is not None:
        return Stage.NOT_ADOPTED
    return Stage.DRAFT


def may_draft(user: User, *, kam: User | int | None = None) -> bool:
    """A committee member drafts mandates; nobody drafts their own (separation of duties)."""
    if not user.has_perm(ADD_MANDATE):
        return False
    kam_id = kam.pk if isinstance(kam, User) else kam
    return kam_id is None or kam_id != user.pk


def _refuse_own(*, kam_id: int, by: User) -> None:
    if not may_draft(by, kam=kam_id):
        if kam_id == by.pk:
            raise NotAllowed(
                _("This is your own mandate: another member of the committee drafts it.")
            )
        raise NotAllowed(_("Only a member of the committee drafts mandates."))


def mandates_with_stage(user: User) -> QuerySet[Mandate]:
    """Every mandate ``user`` may see, with its KAM and ``last_proposal_state`` and
    ``last_proposal_id`` (the last proposal that named it): one query."""
    last = Proposal.objects.filter(mandate=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        mandates_visible_to(user)
        .select_related("kam")
        .annotate(
            last_proposal_state=Subquery(last.values("state")[:1]),
            last_proposal_id=Subquery(last.values("pk")[:1]),
        )
    )


@dataclass
class KamMandates:
    """One KAM's mandates, by stage, as the drafting list shows them."""

    kam: User
    in_force: Mandate | None = None
    by_stage: dict[str, list[Mandate]] = field(default_factory=dict)

    def of(self, stage: str) -> list[Mandate]:
        return self.by_stage.get(stage, [])

    @property
    def drafts(self) -> list[Mandate]:
        return self.of(Stage.DRAFT)

    @property
    def proposed(self) -> list[Mandate]:
        return self.of(Stage.PROPOSED)

    @property
    def not_adopted(self) -> list[Mandate]:
        return self.of(Stage.NOT_ADOPTED)

    @property
    def ended(self) -> list[Mandate]:
        return self.of(Stage.ENDED)


def mandates_by_kam(*, user: User, day: datetime.date | None = None) -> list[KamMandates]:
    """The mandates ``user`` may see, grouped per KAM and by stage (one query)."""
    day = day or timezone.localdate()
    rows: dict[int, KamMandates] = {}
    mandates = mandates_with_stage(user).order_by(
        "kam__last_name", "kam__first_name", "kam_id", "-valid_from", "-pk"
    )
    for mandate in mandates:
        group = rows.setdefault(mandate.kam_id, KamMandates(kam=mandate.kam))
        mandate.stage = draft_stage(mandate, proposal_state=mandate.last_proposal_state, day=day)
        mandate.stage_label = Stage(mandate.stage).label
        if mandate.stage == Stage.IN_FORCE:
            group.in_force = mandate
        group.by_stage.setdefault(mandate.stage, []).append(mandate)
    return list(rows.values())


def mandate_stage(mandate: Mandate, *, day: datetime.date | None = None) -> str:
    last = mandate.proposals.order_by("-created_at", "-pk").values_list("state", flat=True).first()
    return draft_stage(mandate, proposal_state=last, day=day or timezone.localdate())


# Creating drafts --------------------------------------------------------------------------


def mandate_draft_new(
    *, kam: User, by: User, title: str, valid_from: datetime.date, valid_to: datetime.date | None
) -> Mandate:
    """An empty draft for ``kam``: no accounts, no authority; the committee fills it in."""
    _refuse_own(kam_id=kam.pk, by=by)
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": _("A mandate ends on or after the day it starts.")})
    return Mandate.objects.create(
        kam=kam, title=title, valid_from=valid_from, valid_to=valid_to, status=MandateStatus.DRAFT
    )


def mandate_draft_copy(
    *, source: Mandate, by: User, valid_from: datetime.date | None = None
) -> Mandate:
    """A new draft that starts as a copy of ``source``: its terms, limits, methods, accounts
    with their overrides, team and KPI targets. A change to the mandate in force starts here,
    and so does the revision of a draft the committee did not adopt. Seven statements."""
    _refuse_own(kam_id=source.kam_id, by=by)
    with transaction.atomic():
        draft = Mandate.objects.create(
            kam_id=source.kam_id,
            title=source.title,
            valid_from=valid_from or source.valid_from,
            valid_to=source.valid_to,
            status=MandateStatus.DRAFT,
            **{name: getattr(source, name) for name in LIMIT_NAMES},
        )
        draft.methods.set(list(source.methods.values_list("pk", flat=True)))
        MandateAccount.objects.bulk_create(
            MandateAccount(
                mandate=draft,
                client_id=account.client_id,
                **{name: getattr(account, name) for name in LIMIT_NAMES},
            )
            for account in MandateAccount.objects.filter(mandate=source)
        )
        MandateTeamMember.objects.bulk_create(
            MandateTeamMember(mandate=draft, user_id=member.user_id, role=member.role)
            for member in MandateTeamMember.objects.filter(mandate=source)
        )
        KpiTarget.objects.bulk_create(
            KpiTarget(
                mandate=draft,
                kpi_id=target.kpi_id,
                client_id=target.client_id,
                period=target.period,
                target=target.target,
            )
            for target in KpiTarget.objects.filter(mandate=source)
        )
        # The budgets allocated today to its key accounts, this quarter and later: the draft
        # holds them as they are, for the committee to change.
        MandateBudget.objects.bulk_create(
            MandateBudget(
                mandate=draft,
                client_id=budget.client_id,
                period=budget.period,
                allocated=budget.allocated,
            )
            for budget in Budget.objects.filter(
                client_id__in=MandateAccount.objects.filter(
                    mandate=source, client__is_key=True
                ).values("client_id"),
                period__gte=quarter_start(timezone.localdate()),
            )
        )
    return draft


# Saving a draft ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """An account of the draft as the committee left it: its overrides, or removed."""

    id: int
    limits: dict[str, Decimal | int | None]
    remove: bool = False


@dataclass(frozen=True)
class TeamRow:
    """A team member as the committee left them: ``id`` None for one added."""

    id: int | None
    user_id: int
    role: str
    remove: bool = False


@dataclass(frozen=True)
class BudgetRow:
    """A budget the draft holds: an account, a quarter (its first day), an amount in the
    company's currency."""

    client_id: int
    period: datetime.date
    allocated: Decimal


def budget_refusals(
    *, rows: Sequence[BudgetRow], account_ids: set[int], today: datetime.date | None = None
) -> list[str]:
    """Why the draft may not hold these budgets (none: it may): each budget is for one of the
    draft's accounts, a key client, a quarter not past, once per account and quarter, and
    never below what is spent from that budget already. The form says the same on each row;
    the save checks again under the draft's lock. Two queries."""
    today = today or timezone.localdate()
    refusals: list[str] = []
    clients = Client.objects.in_bulk({row.client_id for row in rows})
    spent = budgets_spent(
        client_ids={row.client_id for row in rows}, periods={row.period for row in rows}
    )
    seen: set[tuple[int, datetime.date]] = set()
    for row in rows:
        client = clients.get(row.client_id)
        name = client.name if client else str(row.client_id)
        quarter = quarter_label(row.period)
        if row.client_id not in account_ids or client is None:
            refusals.append(
                _("%(client)s is not an account of this draft: name it first, then its budget.")
                % {"client": name}
            )
        elif not client.is_key:
            refusals.append(
                _("%(client)s is not a key client: budgets are allocated to key clients only.")
                % {"client": name}
            )
        if row.period != quarter_start(row.period) or row.period < quarter_start(today):
            refusals.append(
                _("%(client)s, %(quarter)s: a budget is drafted for this quarter or a later one.")
                % {"client": name, "quarter": quarter}
            )
        if (row.client_id, row.period) in seen:
            refusals.append(
                _("%(client)s, %(quarter)s: one budget per account and quarter.")
                % {"client": name, "quarter": quarter}
            )
        seen.add((row.client_id, row.period))
        _allocated, already = spent.get((row.client_id, row.period), (None, Decimal(0)))
        if row.allocated < already:
            refusals.append(
                _("%(client)s, %(quarter)s: %(spent)s is spent already; the budget cannot be less.")
                % {
                    "client": name,
                    "quarter": quarter,
                    "spent": f"{amount_text(already)}\N{NO-BREAK SPACE}{currency_sign()}",
                }
            )
    return refusals


def _lock_draft(mandate: Mandate) -> Mandate:
    """The draft's row, locked, or ``DraftFrozen`` when it may no longer change: a proposal
    opening on it takes the same lock, so what the committee votes is what was saved."""
    locked = Mandate.objects.select_for_update().filter(pk=mandate.pk).first()
    if locked is None or locked.status != MandateStatus.DRAFT or locked.under_vote:
        raise DraftFrozen(_("This mandate is no longer a draft that may change."))
    if Proposal.objects.filter(mandate=locked).exists():
        raise DraftFrozen(
            _(
                "This draft has been proposed to the committee: it stays as it was proposed. "
                "Revise it into a new draft to change it."
            )
        )
    return locked


def mandate_draft_save(
    *,
    mandate: Mandate,
    by: User,
    terms: dict[str, Any],
    method_ids: Iterable[int],
    accounts: Sequence[AccountRow],
    added_client_ids: Iterable[int],
    team: Sequence[TeamRow],
    budgets: Sequence[BudgetRow] | None = None,
) -> Mandate:
    """Write a draft as the committee left it: terms and limits, methods, the accounts (added,
    overrides changed, removed), the team (added, roles changed, removed) and the budgets it
    holds (``None``: left as they are), in one transaction and a fixed number of statements
    however many rows. The forms checked the rows; here, that the draft may still change and
    the rows are still this draft's, and the budgets' rules (``budget_refusals``)."""
    _refuse_own(kam_id=mandate.kam_id, by=by)
    added_client_ids = list(dict.fromkeys(added_client_ids))
    with transaction.atomic():
        locked = _lock_draft(mandate)
        if terms.get("valid_to") is not None and terms["valid_to"] < terms["valid_from"]:
            raise ValidationError({"valid_to": _("A mandate ends on or after the day it starts.")})
        if any(row.user_id == locked.kam_id for row in team if not row.remove):
            raise ValidationError(
                {"team": _("The KAM leads the mandate: name the others who work with them.")}
            )
        Mandate.objects.filter(pk=locked.pk).update(**{name: terms[name] for name in TERMS})
        locked.methods.set(list(method_ids))

        existing = {
            account.pk: account for account in MandateAccount.objects.filter(mandate=locked)
        }
        if any(row.id not in existing for row in accounts):
            raise ChangedMeanwhile(
                _(
                    "An account on this page was removed meanwhile: reload the page and make "
                    "your changes again."
                )
            )
        removed = [row.id for row in accounts if row.remove]
        changed = []
        for row in accounts:
            account = existing[row.id]
            if row.remove:
                continue
            if any(getattr(account, name) != row.limits.get(name) for name in LIMIT_NAMES):
                for name in LIMIT_NAMES:
                    setattr(account, name, row.limits.get(name))
                changed.append(account)
        kept = {existing[pk].client_id for pk in existing if pk not in removed}
        added = [
            MandateAccount(mandate=locked, client_id=client_id)
            for client_id in added_client_ids
            if client_id not in kept
        ]

        members = {member.pk: member for member in MandateTeamMember.objects.filter(mandate=locked)}
        if any(row.id is not None and row.id not in members for row in team):
            raise ChangedMeanwhile(
                _(
                    "A team member on this page was removed meanwhile: reload the page and make "
                    "your changes again."
                )
            )
        gone = [row.id for row in team if row.id is not None and row.remove]
        roles_changed = []
        new_members = []
        for row in team:
            if row.remove:
                continue
            if row.id is None:
                new_members.append(
                    MandateTeamMember(mandate=locked, user_id=row.user_id, role=row.role)
                )
                continue
            member = members[row.id]
            if (member.user_id, member.role) != (row.user_id, row.role):
                member.user_id, member.role = row.user_id, row.role
                roles_changed.append(member)
        try:
            with transaction.atomic():
                MandateAccount.objects.filter(pk__in=removed).delete()
                MandateAccount.objects.bulk_update(changed, list(LIMIT_NAMES))
                MandateAccount.objects.bulk_create(added)
                MandateTeamMember.objects.filter(pk__in=gone).delete()
                MandateTeamMember.objects.bulk_update(roles_changed, ["user", "role"])
                MandateTeamMember.objects.bulk_create(new_members)
        except IntegrityError:
            raise ValidationError(
                {"team": _("A person is named twice in the team: keep one row for each.")}
            ) from None
        if budgets is not None:
            accounts_now = kept | {account.client_id for account in added}
            refusals = budget_refusals(rows=budgets, account_ids=accounts_now)
            if refusals:
                raise ValidationError({"budgets": refusals})
            MandateBudget.objects.filter(mandate=locked).delete()
            MandateBudget.objects.bulk_create(
                MandateBudget(
                    mandate=locked,
                    client_id=row.client_id,
                    period=row.period,
                    allocated=row.allocated,
                )
                for row in budgets
            )
    for name in TERMS:
        setattr(locked, name, terms[name])
    return locked


def clients_for_drafting() -> QuerySet[Client]:
    """The clients a draft may name: every client, key ones first, by name."""
    return Client.objects.order_by("-is_key", "name")
