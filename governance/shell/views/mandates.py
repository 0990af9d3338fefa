"""Pages of mandates: My mandate for a KAM (the seven questions of the management shell on one
screen), and every mandate for the committee and directors.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.periods import previous_quarter, quarter_label, quarter_start
from criteria.selectors import mismatch_shares
from governance.kpis.states import kpi_rows_for_kam
from governance.models import (
    DepartmentObligation,
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    LimitKind,
    Mandate,
)
from governance.permissions import ADD_PROPOSAL, VIEW_MANDATE, VIEW_OWN_MANDATE
from governance.shell.budgets import budgets_of
from governance.shell.exception_requests import (
    DECIDED_IN,
    RESPONSE_TIME,
    answers_awaited,
    escalation_ladder,
    exception_requests_with_proposal,
    exceptions_granted_by_client,
    ladder_from,
)
from governance.shell.forms import MandateCheckForm
from governance.shell.incidents import incidents_of
from governance.shell.mandates import (
    NotInMandate,
    clients_of,
    key_clients_outside_mandate,
    limits_of,
    mandate_check,
    mandate_in_force,
    mandates_visible_to,
)
from governance.shell.views.budgets import spend_form


def _mandate_page(request: HttpRequest, mandate: Mandate | None, *, own: bool) -> HttpResponse:
    clients = clients_of(mandate) if mandate else []
    form = MandateCheckForm(request.POST or None, clients=clients) if own and mandate else None
    check = None
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            check = mandate_check(
                kam=request.user, client_id=form.cleaned_data["client"], asked=form.asked()
            )
        except NotInMandate as exc:
            form.add_error("client", str(exc))
    accounts = []
    if mandate:
        today = timezone.localdate()
        budgets = {budget.client_id: budget for budget in budgets_of(mandate=mandate, day=today)}
        granted = exceptions_granted_by_client(mandate=mandate, since=quarter_start(today))
        for account in mandate.accounts.all():
            accounts.append(
                {
                    "account": account,
                    "limits": limits_of(mandate, account),
                    "budget": budgets.get(account.client_id),
                    "granted": granted.get(account.client_id, 0),
                }
            )
    requests = (
        exception_requests_with_proposal(
            ExceptionRequest.objects.filter(mandate=mandate)
        ).select_related("client", "decided_by", *DECIDED_IN)
        if mandate
        else ExceptionRequest.objects.none()
    )
    context = {
        "mandate": mandate,
        "own": own,
        "exception_requests": list(requests[:50]),
        # A member reading a KAM's mandate proposes a request at the committee's tier from it;
        # never the KAM whose mandate it is (nobody decides their own request).
        "may_propose_exceptions": request.user.has_perm(ADD_PROPOSAL)
        and (mandate is None or mandate.kam_id != request.user.pk),
        "accounts": accounts,
        "form": form,
        "check": check,
        "limit_labels": dict(LimitKind.choices),
    }
    kam = mandate.kam if mandate else request.user
    context["key_outside"] = list(key_clients_outside_mandate(kam=kam, mandate=mandate))
    if check is not None:
        # What this client's mismatch already costs on the deal, before any concession asked.
        share = mismatch_shares(client_ids={form.cleaned_data["client"]}).get(
            form.cleaned_data["client"]
        )
        deal_value = form.cleaned_data.get("deal_value")
        if share is not None:
            context["check_mismatch"] = {
                "percent": (share * 100).quantize(Decimal("0.1")),
                "amount": None if deal_value is None else (deal_value * share).quantize(Decimal(1)),
            }
    if mandate:
        ladder = escalation_ladder()
        context["ladder"] = ladder
        # Who must answer each pending request now, off the ladder shown below it.
        pending = [
            item
            for item in context["exception_requests"]
            if item.state == ExceptionState.PENDING and not item.is_for_the_committee
        ]
        for awaited in answers_awaited(pending, ladder=ladder):
            awaited.request.waiting_on = awaited.step
        if check is not None and not check.within_mandate:
            context["check_ladder"] = ladder_from(ladder, check.escalate_to)
            context["answer_due"] = timezone.now() + RESPONSE_TIME
        context["budgets"] = [row["budget"] for row in accounts if row["budget"]]
        context["incidents"] = incidents_of(mandate.kam)
        # The quarter in progress, with what is known so far (the nightly snapshot); the last
        # whole quarter is one link away.
        context["kpi_period"] = quarter_start(timezone.localdate())
        context["kpi_period_label"] = quarter_label(context["kpi_period"])
        context["kpi_previous"] = previous_quarter(context["kpi_period"])
        context["kpis"] = kpi_rows_for_kam(kam=mandate.kam, period=context["kpi_period"])
        context["obligations"] = DepartmentObligation.objects.select_related("owner")
        context["department_requests"] = list(
            DepartmentRequest.objects.filter(requested_by=mandate.kam).select_related(
                "obligation", "client"
            )[:50]
        )
        context["now"] = timezone.now()
        if own:
            context["spend_form"] = spend_form(None, mandate)
    template = "governance/shell/mandate.html"
    if request.htmx and request.method == "POST":
        template += "#mandate-check"
    return render(request, template, context)


@login_required
@permission_required(VIEW_OWN_MANDATE, raise_exception=True)
def my_mandate(request: HttpRequest) -> HttpResponse:
    """A KAM's mandate on one screen, with the check of a deal against it."""
    return _mandate_page(request, mandate_in_force(kam=request.user), own=True)


@login_required
@permission_required(VIEW_MANDATE, raise_exception=True)
def mandate_list(request: HttpRequest) -> HttpResponse:
    mandates = (
        mandates_visible_to(request.user)
        .select_related("kam")
        .order_by("kam__last_name", "-valid_from")
    )
    return render(request, "governance/shell/mandate_list.html", {"mandates": mandates})


@login_required
@permission_required(VIEW_MANDATE, raise_exception=True)
def mandate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mandate = get_object_or_404(
        Mandate.objects.prefetch_related("accounts__client", "team__user", "methods"), pk=pk
    )
    return _mandate_page(request, mandate, own=False)
