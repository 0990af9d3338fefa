"""Pages of budgets: the committee allocates per key client and quarter, the KAM spends."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.left_out import LeftOut
from accounts.numbers import amount_text
from accounts.periods import next_quarter, previous_quarter, quarter_containing, quarter_start
from accounts.refusals import add_refusal, tell_refusal
from governance.models import (
    ExceptionRequest,
    ExceptionState,
    Mandate,
)
from governance.permissions import ADD_BUDGET, ADD_BUDGET_SPEND, VIEW_BUDGET
from governance.shell.budgets import budget_allocate, budget_lines, budget_spend, budgets_of
from governance.shell.forms import (
    BudgetForm,
    SpendForm,
)
from governance.shell.mandates import (
    NotInMandate,
    mandate_in_force,
)


def spend_form(data: object, mandate: Mandate) -> SpendForm:
    return SpendForm(
        data,
        budgets=budgets_of(mandate=mandate, day=timezone.localdate()),
        # The KAM's own approved requests; the spending service checks that the one cited
        # licenses this spending, and uses it.
        exceptions=ExceptionRequest.objects.filter(
            mandate=mandate, requested_by=mandate.kam_id, state=ExceptionState.APPROVED
        ).select_related("client"),
    )


@login_required
@permission_required(ADD_BUDGET_SPEND, raise_exception=True)
@require_POST
def budget_spend_view(request: HttpRequest) -> HttpResponse:
    """Record spending from one of the KAM's budgets."""
    mandate = mandate_in_force(kam=request.user)
    if mandate is None:
        raise PermissionDenied
    form = spend_form(request.POST, mandate)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("governance:my-mandate")
    data = form.cleaned_data
    try:
        budget_spend(
            kam=request.user,
            budget=data["budget"],
            amount=data["amount"],
            category=data["category"],
            spent_on=data["spent_on"],
            description=data["description"],
            exception=data["exception"],
        )
    except (ValidationError, NotInMandate) as exc:
        tell_refusal(request, exc)
    else:
        messages.success(request, _("The spending is recorded."))
    return redirect("governance:my-mandate")


def _period_of(request: HttpRequest) -> tuple[datetime.date, list[LeftOut]]:
    """The quarter asked for (any day of it), or this quarter, with the parameter left out when
    it names no day of a quarter the calendar holds."""
    raw = request.GET.get("quarter")
    period = quarter_containing(raw, default=timezone.localdate())
    if not raw:
        return period, []
    try:
        if quarter_start(datetime.date.fromisoformat(raw)) == period:
            return period, []
    except ValueError:
        pass
    reason = _("Not a day of a quarter on the calendar (YYYY-MM-DD): this quarter is shown.")
    return period, [LeftOut(parameter="quarter", value=raw, reason=reason)]


@login_required
@permission_required(VIEW_BUDGET, raise_exception=True)
def budget_list(request: HttpRequest) -> HttpResponse:
    """Budgets of a quarter: allocated, spent, remaining; the committee allocates here."""
    period, left_out = _period_of(request)
    form = None
    if request.user.has_perm(ADD_BUDGET):
        form = BudgetForm(request.POST or None, initial={"period": period})
        if request.method == "POST" and form.is_valid():
            try:
                budget = budget_allocate(**form.cleaned_data, by=request.user)
            except ValidationError as exc:
                add_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("%(client)s: %(amount)s allocated for the quarter.")
                    % {"client": budget.client, "amount": amount_text(budget.allocated)},
                )
                return redirect(f"{request.path}?quarter={budget.period.isoformat()}")
    elif request.method == "POST":
        raise PermissionDenied
    lines = list(budget_lines(user=request.user, period=period))
    totals = {
        "allocated": sum(b.allocated for b in lines),
        "spent": sum(b.spent_total for b in lines),
    }
    totals["remaining"] = totals["allocated"] - totals["spent"]
    previous, following = previous_quarter(period), next_quarter(period)
    return render(
        request,
        "governance/shell/budget_list.html",
        {
            "lines": lines,
            "totals": totals,
            "period": period,
            "previous": previous,
            "following": following,
            "form": form,
            "left_out": left_out,
        },
    )
