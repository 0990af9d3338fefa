"""Pages of exception requests: a KAM files one for a deal past the mandate; its approvers
decide."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.left_out import filters_left_out, page_of
from accounts.refusals import tell_refusal
from criteria.selectors import mismatch_shares
from governance.lists import page_data, page_query
from governance.models import (
    ExceptionState,
)
from governance.permissions import ADD_EXCEPTION_REQUEST, VIEW_EXCEPTION_REQUEST
from governance.recipients import approver_roles_of
from governance.shell.exception_requests import (
    DECIDED_IN,
    AlreadyDecided,
    CommitteeDecides,
    answers_awaited,
    exception_decide,
    exception_file,
    exception_requests_visible_to,
    exception_requests_with_proposal,
    may_decide,
    may_propose,
)
from governance.shell.filters import ExceptionRequestFilter
from governance.shell.forms import MandateCheckForm
from governance.shell.mandates import (
    NotInMandate,
    clients_of,
    mandate_in_force,
)

TENTH = Decimal("0.1")


@login_required
@permission_required(ADD_EXCEPTION_REQUEST, raise_exception=True)
@require_POST
def exception_new(request: HttpRequest) -> HttpResponse:
    """File an exception for the deal just checked on My mandate."""
    mandate = mandate_in_force(kam=request.user)
    form = MandateCheckForm(request.POST, clients=clients_of(mandate) if mandate else [])
    justification = request.POST.get("justification", "")
    if not form.is_valid():
        messages.error(request, _("The deal could not be read; check it again."))
        return redirect("governance:my-mandate")
    try:
        exception_file(
            kam=request.user,
            client_id=form.cleaned_data["client"],
            asked=form.asked(),
            justification=justification,
            deal=request.POST.get("deal", "")[:300],
        )
    except (ValidationError, NotInMandate) as exc:
        tell_refusal(request, exc)
    else:
        messages.success(request, _("Your exception request is filed with its approver."))
    return redirect("governance:my-mandate")


@login_required
@permission_required(VIEW_EXCEPTION_REQUEST, raise_exception=True)
def exception_list(request: HttpRequest) -> HttpResponse:
    data = page_data(request, state=ExceptionState.PENDING)
    requests = ExceptionRequestFilter(
        data,
        queryset=exception_requests_with_proposal(exception_requests_visible_to(request.user))
        .select_related("client", "requested_by", "decided_by", *DECIDED_IN)
        .order_by("state", "respond_by"),
    )
    roles = approver_roles_of(request.user)
    page, page_left_out = page_of(Paginator(requests.qs, 50), data.get("page"))
    shares = mismatch_shares(client_ids={r.client_id for r in page.object_list})
    rows = []
    for r in page.object_list:
        share = shares.get(r.client_id)
        deal_value = Decimal(r.asked["deal_value"]) if r.asked.get("deal_value") else None
        rows.append(
            {
                "request": r,
                "may_decide": may_decide(user=request.user, request=r, roles=roles),
                "may_propose": may_propose(user=request.user, request=r),
                "deal_value": deal_value,
                "mismatch_percent": None if share is None else (share * 100).quantize(TENTH),
                "mismatch_on_deal": None
                if share is None or deal_value is None
                else (deal_value * share).quantize(Decimal(1)),
            }
        )
    return render(
        request,
        "governance/shell/exception_list.html",
        {
            "rows": rows,
            "page": page,
            "query": page_query(data),
            "state": data["state"],
            "states": ExceptionState.choices,
            "left_out": [*filters_left_out(requests), *page_left_out],
        },
    )


@login_required
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: what it asks, where it stands, who decided it (a person, or the committee
    by its vote on a proposal), and what the reader may do about it."""
    item = get_object_or_404(
        exception_requests_with_proposal(
            exception_requests_visible_to(request.user)
        ).select_related("client", "requested_by", "decided_by", *DECIDED_IN, "mandate"),
        pk=pk,
    )
    deal_value = Decimal(item.asked["deal_value"]) if item.asked.get("deal_value") else None
    return render(
        request,
        "governance/shell/exception_detail.html",
        {
            "item": item,
            "deal_value": deal_value,
            "may_decide": may_decide(user=request.user, request=item),
            "may_propose": may_propose(user=request.user, request=item),
            # Who must answer it now, as My mandate's escalation ladder names them.
            "awaited": answers_awaited([item])[0] if item.state == ExceptionState.PENDING else None,
        },
    )


@login_required
@require_POST
def exception_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    # The tier's approver decides, or their deputy while they are away (who may hold no seat);
    # a request at the committee's tier is refused here: a proposal's vote decides it.
    item = get_object_or_404(exception_requests_visible_to(request.user), pk=pk)
    try:
        exception_decide(
            request=item,
            by=request.user,
            approve=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", ""),
        )
    except CommitteeDecides as exc:
        messages.error(request, str(exc))
        return redirect(item)
    except AlreadyDecided as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Decided."))
    return redirect("governance:exception-list")
