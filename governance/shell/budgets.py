"""Budgets per key client and quarter: allocated by the committee, spent by the KAM. Spending
past the mandate's threshold needs an approved exception; nobody spends past what is left."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, User
from accounts.numbers import amount_text
from accounts.periods import quarter_start
from accounts.refusals import STATE, NotAllowed
from governance.models import (
    Budget,
    BudgetSpend,
    ExceptionRequest,
    ExceptionState,
    LimitKind,
    Mandate,
    MandateAccount,
    MandateBudget,
)
from governance.permissions import VIEW_BUDGET, VIEW_BUDGET_SPEND, VIEW_OWN_MANDATE
from governance.shell.mandates import limits_of, mandate_account
from governance.webhooks import webhook_budgets_allocated


def budgets_visible_to(user: User) -> QuerySet[Budget]:
    """The budgets ``user`` may see: all of them for the committee, directors and the
    administrator; a KAM those of the clients on any version of their mandate; nobody else
    any."""
    if user.has_perm(VIEW_BUDGET):
        return Budget.objects.all()
    if user.has_perm(VIEW_OWN_MANDATE):
        own = MandateAccount.objects.filter(mandate__kam=user).values("client_id")
        return Budget.objects.filter(client_id__in=own)
    return Budget.objects.none()


def spending_visible_to(user: User) -> QuerySet[BudgetSpend]:
    """The spending ``user`` may see: all of it for the committee, directors and the
    administrator; a KAM what they recorded; nobody else any."""
    if user.has_perm(VIEW_BUDGET_SPEND):
        return BudgetSpend.objects.all()
    if user.has_perm(VIEW_OWN_MANDATE):
        return BudgetSpend.objects.filter(recorded_by=user)
    return BudgetSpend.objects.none()


def _spent(budget: Budget) -> Decimal:
    """What is spent from one budget, read under its row lock by the writers."""
    return budget.spending.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def budgets_of(*, mandate: Mandate, day: datetime.date) -> QuerySet[Budget]:
    """The quarter's budgets of the mandate's accounts, with what is spent and remains."""
    client_ids = [account.client_id for account in mandate.accounts.all()]
    return (
        Budget.objects.filter(client_id__in=client_ids, period=quarter_start(day))
        .with_spent()
        .order_by("client__name")
    )


def budget_spend(
    *,
    kam: User,
    budget: Budget,
    amount: Decimal,
    category: str,
    spent_on: datetime.date,
    description: str,
    exception: ExceptionRequest | None = None,
) -> BudgetSpend:
    """Record spending from one of the KAM's budgets, checked under the budget's row lock.

    Past the mandate's threshold it cites an exception, which is a licence for one thing: the
    KAM's own, for this client, approved, passing the budget-spend limit, and used up to the
    amount it asked for — consumed here, under its row lock, in the spending's transaction
    (refused spending uses none of it)."""
    mandate, account = mandate_account(kam=kam, client_id=budget.client_id)
    threshold = limits_of(mandate, account)[LimitKind.BUDGET_SPEND]
    if amount > threshold and exception is None:
        raise ValidationError(
            {
                "exception": ValidationError(
                    _("Spending over %(threshold)s needs an exception approved for this client.")
                    % {"threshold": amount_text(threshold)},
                    STATE,
                )
            }
        )
    with transaction.atomic():
        locked = Budget.objects.select_for_update().get(pk=budget.pk)
        if exception is not None:
            _licence_use(exception=exception, kam=kam, client_id=locked.client_id, amount=amount)
        spent = _spent(locked)
        if amount > locked.allocated - spent:
            raise ValidationError(
                _("Only %(remaining)s is left of this budget.")
                % {"remaining": amount_text(locked.allocated - spent)},
                STATE,
            )
        return BudgetSpend.objects.create(
            budget=locked,
            amount=amount,
            category=category,
            spent_on=spent_on,
            description=description,
            exception=exception,
            recorded_by=kam,
        )


def _licence_use(
    *, exception: ExceptionRequest, kam: User, client_id: int, amount: Decimal
) -> None:
    """Use ``amount`` of an exception's licence to spend, or refuse (``ValidationError`` on
    the exception). Called inside the spending's transaction: the row lock keeps two
    spendings from both using the last of it."""
    licence = ExceptionRequest.objects.select_for_update().get(pk=exception.pk)
    if licence.requested_by_id != kam.pk:
        refusal = _("This exception is another KAM's: it licenses nothing of yours.")
    elif licence.client_id != client_id:
        refusal = _("This exception was granted for another client.")
    elif licence.state != ExceptionState.APPROVED:
        refusal = _("This exception is not approved.")
    elif licence.licensed(LimitKind.BUDGET_SPEND) is None:
        refusal = _("This exception licenses %(limits)s, not spending from the budget.") % {
            "limits": ", ".join(str(line["label"]) for line in licence.breach_lines)
        }
    else:
        left = licence.licensed(LimitKind.BUDGET_SPEND) - licence.used_amount
        if amount <= left:
            licence.used_amount += amount
            licence.used_at = timezone.now()
            licence.save(update_fields=["used_amount", "used_at"])
            return
        refusal = _("This exception licenses %(left)s more of spending, not %(amount)s.") % {
            "left": max(left, Decimal(0)),
            "amount": amount,
        }
    raise ValidationError({"exception": ValidationError(refusal, STATE)})


def has_stake_in_client(*, user: User, client_id: int) -> bool:
    """Whether ``user`` works the client: owns it, is on its team, or holds a mandate that
    covers it. Who does never decides for it (its budget, its status)."""
    return (
        Client.objects.filter(pk=client_id)
        .filter(Q(owner_kam=user) | Q(team_members__user=user))
        .exists()
        or MandateAccount.objects.filter(client_id=client_id, mandate__kam=user).exists()
    )


def budget_allocate(
    *, client: Client, period: datetime.date, allocated: Decimal, by: User, note: str = ""
) -> Budget:
    """The committee allocates (or changes) a key client's budget for a quarter; never below
    what is spent already. Nobody allocates to a client they work themselves (``NotAllowed``)."""
    period = quarter_start(period)
    if has_stake_in_client(user=by, client_id=client.pk):
        raise NotAllowed(
            _(
                "You work this client yourself: another member of the committee allocates its "
                "budget."
            )
        )
    if not client.is_key:
        raise ValidationError(
            {"client": ValidationError(_("Budgets are allocated to key clients only."), STATE)}
        )
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(client=client, period=period).first()
        if budget is None:
            budget = Budget.objects.create(
                client=client, period=period, allocated=allocated, note=note
            )
        else:
            spent = _spent(budget)
            if allocated < spent:
                raise ValidationError(
                    {
                        "allocated": ValidationError(
                            _("%(spent)s is spent already; allocate at least that.")
                            % {"spent": amount_text(spent)},
                            STATE,
                        )
                    }
                )
            budget.allocated = allocated
            budget.note = note or budget.note
            budget.save(update_fields=["allocated", "note"])
        webhook_budgets_allocated(budgets=[budget])
        return budget


def budget_lines(*, user: User, period: datetime.date) -> QuerySet[Budget]:
    """Every budget of a quarter ``user`` may see, with what is spent from it (one query)."""
    return (
        budgets_visible_to(user)
        .filter(period=quarter_start(period))
        .with_spent()
        .order_by("client__name")
    )


def spent_by_account_and_quarter(
    *, client_ids: Iterable[int], periods: Iterable[datetime.date]
) -> dict[tuple[int, datetime.date], tuple[Decimal, Decimal]]:
    """For each (client, quarter) that has a budget among ``client_ids`` × ``periods``: what
    is allocated and what is spent from it. One query."""
    return {
        (client_id, period): (allocated, spent)
        for client_id, period, allocated, spent in Budget.objects.filter(
            client_id__in=set(client_ids), period__in=set(periods)
        )
        .with_spent()
        .values_list("client_id", "period", "allocated", "spent_total")
    }


def budgets_from_mandate(*, mandate: Mandate) -> list[Budget]:
    """Allocate the budgets a mandate holds (``MandateBudget``) as the committee adopts it,
    in the adoption's transaction, each budget's row locked. Never below what is spent by then
    (spending recorded while the vote was open is not undone: the budget is what was spent),
    and only to clients still key (a budget is a key client's). A few statements, whatever the
    number of budgets; one webhook event per budget allocated, as ``budget_allocate`` sends."""
    drafted = list(MandateBudget.objects.filter(mandate=mandate).select_related("client"))
    drafted = [row for row in drafted if row.client.is_key]
    if not drafted:
        return []
    with transaction.atomic():
        locked = {
            (budget.client_id, budget.period): budget
            for budget in Budget.objects.select_for_update().filter(
                client_id__in={row.client_id for row in drafted},
                period__in={row.period for row in drafted},
            )
        }
        spent = dict(
            BudgetSpend.objects.filter(budget__in=list(locked.values()))
            .values("budget_id")
            .annotate(total=Sum("amount"))
            .values_list("budget_id", "total")
        )
        changed, created = [], []
        for row in drafted:
            budget = locked.get((row.client_id, row.period))
            if budget is None:
                created.append(
                    Budget(client_id=row.client_id, period=row.period, allocated=row.allocated)
                )
                continue
            allocated = max(row.allocated, spent.get(budget.pk) or Decimal(0))
            if budget.allocated != allocated:
                budget.allocated = allocated
                changed.append(budget)
        Budget.objects.bulk_update(changed, ["allocated"])
        Budget.objects.bulk_create(created)
        webhook_budgets_allocated(budgets=[*changed, *created])
    return [*changed, *created]
