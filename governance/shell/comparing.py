"""Comparing a mandate's draft with the mandate in force, part by part (terms, limits,
accounts, team, methods, KPI targets), and its budgets with those allocated today: what the
committee reads before it proposes a draft, and what a proposal shows while it is voted.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.money import in_currency
from accounts.periods import quarter_label, quarter_start
from governance.models import (
    LIMIT_FIELDS,
    MONEY_LIMITS,
    Budget,
    KpiTarget,
    LimitKind,
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateStatus,
    MandateTeamMember,
)
from governance.shell.budgets import spent_by_account_and_quarter as budgets_spent

# Comparing a draft with the mandate in force -----------------------------------------------


class Change(models.TextChoices):
    ADDED = "added", gettext_lazy("added")
    REMOVED = "removed", gettext_lazy("removed")
    CHANGED = "changed", gettext_lazy("changed")
    SAME = "same", gettext_lazy("unchanged")


def _limit_label(kind: str) -> str:
    """A limit's name; a limit counted in money says its currency: "Credit limit, RUB"."""
    label = str(LimitKind(kind).label)
    return in_currency(label) if kind in MONEY_LIMITS else label


def _change(
    before: object, after: object, *, present_before: bool = True, present_after: bool = True
) -> str:
    if not present_before:
        return Change.ADDED
    if not present_after:
        return Change.REMOVED
    return Change.SAME if before == after else Change.CHANGED


@dataclass(frozen=True)
class Line:
    """One thing compared: a term, a limit, an account, a team member, a KPI target."""

    label: object
    before: object
    after: object
    change: str
    details: tuple[Line, ...] = ()
    budget: Decimal | None = None

    @property
    def change_label(self) -> str:
        return str(Change(self.change).label)


@dataclass
class Comparison:
    """A draft against the mandate in force, part by part (``base`` None: no mandate in force,
    everything the draft says is added)."""

    draft: Mandate
    base: Mandate | None
    terms: list[Line]
    limits: list[Line]
    methods: list[Line]
    accounts: list[Line]
    team: list[Line]
    targets: list[Line]
    budget_period: datetime.date
    budgets: list[Line] = field(default_factory=list)

    @property
    def parts(self) -> list[tuple[str, str, list[Line]]]:
        return [
            ("terms", _("Title and validity"), self.terms),
            ("limits", _("Limits"), self.limits),
            ("accounts", _("Accounts"), self.accounts),
            ("team", _("Team"), self.team),
            ("methods", _("Relationship methods"), self.methods),
            ("targets", _("KPI targets"), self.targets),
            ("budgets", in_currency(_("Budgets")), self.budgets),
        ]

    @property
    def changes(self) -> int:
        return sum(
            1 for _key, _label, lines in self.parts for line in lines if line.change != Change.SAME
        )


def _keyed(rows: Iterable[Any], key: Any) -> dict[Any, Any]:
    return {key(row): row for row in rows}


def mandate_compare(*, draft: Mandate, day: datetime.date | None = None) -> Comparison:
    """``draft`` against its KAM's mandate in force (another than the draft itself), part by
    part: what is added, removed and changed, and its budgets against those allocated today.
    Nine queries, however many rows."""
    day = day or timezone.localdate()
    base = (
        Mandate.objects.filter(kam_id=draft.kam_id, status=MandateStatus.IN_FORCE)
        .exclude(pk=draft.pk)
        .first()
    )
    ids = [draft.pk] + ([base.pk] if base else [])
    accounts = list(MandateAccount.objects.filter(mandate_id__in=ids).select_related("client"))
    team = list(MandateTeamMember.objects.filter(mandate_id__in=ids).select_related("user"))
    methods = list(
        Mandate.methods.through.objects.filter(mandate_id__in=ids).select_related(
            "relationshipmethod"
        )
    )
    targets = list(KpiTarget.objects.filter(mandate_id__in=ids).select_related("kpi", "client"))
    period = quarter_start(day)
    budgets = dict(
        Budget.objects.filter(
            period=period, client_id__in={account.client_id for account in accounts}
        ).values_list("client_id", "allocated")
    )

    def of(rows: list[Any], mandate: Mandate | None) -> list[Any]:
        return [row for row in rows if mandate is not None and row.mandate_id == mandate.pk]

    terms = [
        Line(
            label=Mandate._meta.get_field(name).verbose_name,
            before=getattr(base, name) if base else None,
            after=getattr(draft, name),
            change=_change(
                getattr(base, name, None), getattr(draft, name), present_before=base is not None
            ),
        )
        for name in ("title", "valid_from", "valid_to")
    ]
    limits = [
        Line(
            label=_limit_label(kind),
            before=getattr(base, name) if base else None,
            after=getattr(draft, name),
            change=_change(
                getattr(base, name, None), getattr(draft, name), present_before=base is not None
            ),
        )
        for kind, name in LIMIT_FIELDS.items()
    ]

    before_accounts = _keyed(of(accounts, base), lambda a: a.client_id)
    after_accounts = _keyed(of(accounts, draft), lambda a: a.client_id)
    account_lines = []
    for client_id in sorted(
        before_accounts.keys() | after_accounts.keys(),
        key=lambda pk: (after_accounts.get(pk) or before_accounts.get(pk)).client.name,
    ):
        old, new = before_accounts.get(client_id), after_accounts.get(client_id)
        details = tuple(
            Line(
                label=_limit_label(kind),
                before=getattr(old, name),
                after=getattr(new, name),
                change=_change(getattr(old, name), getattr(new, name)),
            )
            for kind, name in LIMIT_FIELDS.items()
            if old is not None and new is not None and getattr(old, name) != getattr(new, name)
        )
        account_lines.append(
            Line(
                label=(new or old).client,
                before=old,
                after=new,
                change=Change.CHANGED
                if details
                else _change(
                    None, None, present_before=old is not None, present_after=new is not None
                ),
                details=details,
                budget=budgets.get(client_id),
            )
        )

    before_team = _keyed(of(team, base), lambda m: m.user_id)
    after_team = _keyed(of(team, draft), lambda m: m.user_id)
    team_lines = [
        Line(
            label=(after_team.get(pk) or before_team.get(pk)).user,
            before=before_team[pk].role if pk in before_team else None,
            after=after_team[pk].role if pk in after_team else None,
            change=_change(
                before_team[pk].role if pk in before_team else None,
                after_team[pk].role if pk in after_team else None,
                present_before=pk in before_team,
                present_after=pk in after_team,
            ),
        )
        for pk in sorted(before_team.keys() | after_team.keys())
    ]

    before_methods = {
        row.relationshipmethod_id: row.relationshipmethod for row in of(methods, base)
    }
    after_methods = {
        row.relationshipmethod_id: row.relationshipmethod for row in of(methods, draft)
    }
    method_lines = [
        Line(
            label=(after_methods.get(pk) or before_methods.get(pk)).name,
            before=None,
            after=None,
            change=_change(
                None, None, present_before=pk in before_methods, present_after=pk in after_methods
            ),
        )
        for pk in sorted(
            before_methods.keys() | after_methods.keys(),
            key=lambda pk: (after_methods.get(pk) or before_methods.get(pk)).name,
        )
    ]

    def target_key(target: KpiTarget) -> tuple[object, ...]:
        return (target.period, target.kpi_id, target.client_id or 0)

    before_targets = _keyed(of(targets, base), target_key)
    after_targets = _keyed(of(targets, draft), target_key)
    target_lines = []
    for key in sorted(before_targets.keys() | after_targets.keys()):
        old, new = before_targets.get(key), after_targets.get(key)
        target_lines.append(
            Line(
                label=new or old,
                before=None if old is None else old.target,
                after=None if new is None else new.target,
                change=_change(
                    None if old is None else old.target,
                    None if new is None else new.target,
                    present_before=old is not None,
                    present_after=new is not None,
                ),
            )
        )
    # The draft's budgets against those allocated today: adopting the draft allocates them;
    # a budget it does not hold stays as it is.
    drafted = list(MandateBudget.objects.filter(mandate=draft).select_related("client"))
    in_force = budgets_spent(
        client_ids={row.client_id for row in drafted}, periods={row.period for row in drafted}
    )
    budget_lines = []
    for row in sorted(drafted, key=lambda row: (row.period, row.client.name)):
        before = in_force.get((row.client_id, row.period), (None, None))[0]
        budget_lines.append(
            Line(
                label=f"{row.client.name} · {quarter_label(row.period)}",
                before=before,
                after=row.allocated,
                change=_change(before, row.allocated, present_before=before is not None),
            )
        )
    return Comparison(
        draft=draft,
        base=base,
        budgets=budget_lines,
        terms=terms,
        limits=limits,
        methods=method_lines,
        accounts=account_lines,
        team=team_lines,
        targets=target_lines,
        budget_period=period,
    )
