"""Pages of the committee: proposals with their evidence, votes with a live tally, decisions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Client, quarter_start
from governance.budgets import budget_spend, budgets_of
from governance.departments import (
    breaches_by_department,
    department_fulfil,
    department_request,
)
from governance.forms import MandateCheckForm, ProposalForm, SpendForm, VoteForm, add_refusal
from governance.incidents import incidents_of
from governance.kpis import kpi_rows_for_kam, previous_quarter
from governance.mandates import (
    AlreadyDecided,
    NotInMandate,
    approver_roles_of,
    clients_of,
    exception_decide,
    exception_file,
    exceptions_granted_by_client,
    limits_of,
    mandate_check,
    mandate_in_force,
    may_decide,
)
from governance.meetings import recusal_suggestions
from governance.models import (
    Decision,
    Department,
    DepartmentObligation,
    DepartmentRequest,
    ExceptionRequest,
    ExceptionState,
    LimitKind,
    Mandate,
    Policy,
    PolicyStatus,
    Proposal,
    ProposalState,
    ProposalType,
    Vote,
)
from governance.selectors import DRIFT_ROWS, clients_buying_decisions, drift, shell_drift
from governance.services import (
    NotEntitled,
    ProposalNotOpen,
    entitled_members,
    proposal_close,
    proposal_create,
    proposal_open,
    proposal_withdraw,
    recuse,
    tally_of,
    vote_cast,
)


@login_required
@permission_required("governance.view_proposal", raise_exception=True)
def proposal_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    proposals = Proposal.objects.select_related("client").order_by("-pk")
    if state in ProposalState.values:
        proposals = proposals.filter(state=state)
    page = Paginator(proposals, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/proposal_list.html",
        {"page": page, "state": state, "states": ProposalState.choices, "query": f"state={state}"},
    )


def _proposal_context(request: HttpRequest, proposal: Proposal) -> dict[str, object]:
    tally = tally_of(proposal)
    entitled = entitled_members(proposal=proposal) if proposal.is_open else []
    votes = list(
        Vote.objects.filter(proposal=proposal).select_related("member").order_by("-cast_at")
    )
    current = {v.member_id: v for v in votes if v.is_current}
    return {
        "proposal": proposal,
        "tally": tally,
        "votes": votes,
        "current": list(current.values()),
        "my_vote": current.get(request.user.pk),
        "can_vote": proposal.is_open and request.user in entitled,
        "not_voted": [m for m in entitled if m.pk not in current],
        "can_close": proposal.is_open
        and request.user.has_perm("governance.close_proposal")
        and tally.outcome_is_settled(),
        "is_chair": request.user.has_perm("governance.close_proposal"),
        "recusal_suggestions": recusal_suggestions(proposal=proposal) if proposal.is_open else [],
    }


@login_required
@permission_required("governance.view_proposal", raise_exception=True)
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.select_related("client", "ruler"), pk=pk)
    form = VoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            vote_cast(
                proposal=proposal,
                member=request.user,
                choice=form.cleaned_data["choice"],
                comment=form.cleaned_data["comment"],
            )
        except NotEntitled as exc:
            raise PermissionDenied(str(exc)) from exc
        except ProposalNotOpen as exc:
            messages.error(request, str(exc))
            return redirect(proposal)
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    form.add_error(None, error)
        else:
            messages.success(request, _("Your vote is recorded."))
            return redirect(proposal)
    context = {**_proposal_context(request, proposal), "form": form}
    if request.htmx and request.method == "GET":
        return render(request, "governance/proposal_detail.html#tally", context)
    return render(request, "governance/proposal_detail.html", context)


@login_required
@permission_required("governance.close_proposal", raise_exception=True)
@require_POST
def proposal_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        proposal = proposal_close(proposal=proposal, early=True)
    except ProposalNotOpen as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Closed: %(outcome)s.") % {"outcome": proposal.get_state_display()}
        )
    return redirect(proposal)


def _propose(
    request: HttpRequest, form: ProposalForm, *, supersedes: Decision | None = None
) -> Proposal | None:
    """Create the proposal of a valid form and open it for votes; None when the services
    refuse it, with their reasons put on the form."""
    data = form.cleaned_data
    try:
        proposal = proposal_create(
            type=data["type"],
            title=data["title"],
            rationale=data["rationale"],
            by=request.user,
            client=data["client"],
            ruler=data["ruler"],
            policy=data["policy"],
            review_date=data["review_date"],
            supersedes=supersedes,
        )
        proposal = proposal_open(proposal=proposal, deadline=data["deadline"])
    except ValidationError as exc:
        add_refusal(form, exc)
        return None
    messages.success(request, _("The proposal is open for votes."))
    return proposal


@login_required
@permission_required("governance.add_proposal", raise_exception=True)
def proposal_new(request: HttpRequest) -> HttpResponse:
    initial = {
        name: request.GET[name]
        for name in ("client", "type", "ruler", "policy")
        if name in request.GET
    }
    form = ProposalForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        proposal = _propose(request, form)
        if proposal is not None:
            return redirect(proposal)
    return render(request, "governance/proposal_form.html", {"form": form})


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def decision_register(request: HttpRequest) -> HttpResponse:
    decisions = Decision.objects.select_related("client", "proposal", "superseded_by")
    client = request.GET.get("client", "")
    if client.isdigit():
        decisions = decisions.filter(client_id=int(client))
    kind = request.GET.get("type", "")
    if kind in ProposalType.values:
        decisions = decisions.filter(proposal__type=kind)
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/decision_list.html",
        {"page": page, "types": ProposalType.choices, "type": kind, "query": f"type={kind}"},
    )


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def drift_panel(request: HttpRequest) -> HttpResponse:
    """Where the committee has not decided and things decided themselves."""
    found = drift()
    shell = shell_drift()
    limit = DRIFT_ROWS
    context = {
        "drift": found,
        "key_without_decision": list(found.key_without_decision[:limit]),
        "review_overdue": list(found.review_overdue[:limit]),
        "key_failing_ruler": list(found.key_failing_ruler[:limit]),
        "meeting_never_considered": list(found.meeting_never_considered[:limit]),
        "buying_decisions": list(clients_buying_decisions()[:limit]),
        "key_outside_mandates": list(shell.key_outside_mandates[:limit]),
        "mandates_without_targets": list(shell.mandates_without_targets[:limit]),
        "incidents_overdue": list(shell.incidents_overdue[:limit]),
        "counts": {
            "key_without_decision": found.key_without_decision.count(),
            "review_overdue": found.review_overdue.count(),
            "key_failing_ruler": found.key_failing_ruler.count(),
            "meeting_never_considered": found.meeting_never_considered.count(),
            "key_outside_mandates": shell.key_outside_mandates.count(),
            "mandates_without_targets": shell.mandates_without_targets.count(),
            "incidents_overdue": shell.incidents_overdue.count(),
        },
        "limit": limit,
    }
    return render(request, "governance/drift.html", context)


@login_required
@permission_required("governance.view_decision", raise_exception=True)
def policy_overview(request: HttpRequest) -> HttpResponse:
    """The policy in force, its decision rules, and drafts waiting for the committee."""
    policies = Policy.objects.prefetch_related("rules").order_by("-number")
    return render(
        request,
        "governance/policy.html",
        {
            "in_force": next((p for p in policies if p.status == PolicyStatus.IN_FORCE), None),
            "drafts": [p for p in policies if p.status == PolicyStatus.DRAFT],
            "key_clients": Client.objects.filter(is_key=True).count(),
        },
    )


@login_required
@permission_required("governance.change_proposal", raise_exception=True)
@require_POST
def proposal_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposer or the chair withdraws a proposal (to change it, propose again)."""
    proposal = get_object_or_404(Proposal, pk=pk)
    if request.user != proposal.proposed_by and not request.user.has_perm(
        "governance.close_proposal"
    ):
        raise PermissionDenied
    try:
        proposal_withdraw(proposal=proposal)
    except ProposalNotOpen as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The proposal is withdrawn; the votes cast stay on record."))
    return redirect(proposal)


@login_required
@permission_required("governance.add_recusal", raise_exception=True)
@require_POST
def proposal_recuse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A member stands aside on a proposal, saying why."""
    proposal = get_object_or_404(Proposal, pk=pk)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        messages.error(request, _("Say why you stand aside: the minutes record it."))
        return redirect(proposal)
    try:
        recuse(proposal=proposal, member=request.user, reason=reason)
    except ProposalNotOpen as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You stand aside on this proposal; your vote does not count."))
    return redirect(proposal)


@login_required
@permission_required("governance.add_proposal", raise_exception=True)
def decision_revisit(request: HttpRequest, pk: int) -> HttpResponse:
    """Revisit a decision: a new proposal, linked to the decision it would supersede."""
    decision = get_object_or_404(Decision.objects.select_related("client", "proposal"), pk=pk)
    if decision.superseded_by_id:
        messages.error(request, _("This decision has been superseded already."))
        return redirect("governance:decision-list")
    if decision.client is None:
        messages.error(request, _("Only decisions on a client's key status are revisited here."))
        return redirect("governance:decision-list")
    kind = "revoke_key" if decision.client.is_key else "grant_key"
    form = ProposalForm(
        request.POST or None,
        initial={
            "type": kind,
            "client": decision.client_id,
            "title": _("Revisit: %(decision)s") % {"decision": decision.summary},
        },
    )
    if request.method == "POST" and form.is_valid():
        proposal = _propose(request, form, supersedes=decision)
        if proposal is not None:
            return redirect(proposal)
    return render(request, "governance/proposal_form.html", {"form": form, "revisiting": decision})


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
        ExceptionRequest.objects.filter(mandate=mandate).select_related("client", "decided_by")
        if mandate
        else ExceptionRequest.objects.none()
    )
    context = {
        "mandate": mandate,
        "own": own,
        "exception_requests": list(requests[:50]),
        "accounts": accounts,
        "form": form,
        "check": check,
        "limit_labels": dict(LimitKind.choices),
    }
    if mandate:
        context["budgets"] = [row["budget"] for row in accounts if row["budget"]]
        context["incidents"] = incidents_of(mandate.kam)
        # The last whole quarter: the current one has no figures until it closes.
        context["kpi_period"] = previous_quarter(quarter_start(timezone.localdate()))
        context["kpis"] = kpi_rows_for_kam(kam=mandate.kam, period=context["kpi_period"])
        context["obligations"] = DepartmentObligation.objects.select_related("owner")
        context["department_requests"] = list(
            DepartmentRequest.objects.filter(requested_by=mandate.kam).select_related(
                "obligation", "client"
            )[:50]
        )
        context["now"] = timezone.now()
        if own:
            context["spend_form"] = _spend_form(None, mandate)
    template = "governance/mandate.html"
    if request.htmx and request.method == "POST":
        template += "#mandate-check"
    return render(request, template, context)


@login_required
@permission_required("governance.view_own_mandate", raise_exception=True)
def my_mandate(request: HttpRequest) -> HttpResponse:
    """A KAM's mandate on one screen, with the check of a deal against it."""
    return _mandate_page(request, mandate_in_force(kam=request.user), own=True)


@login_required
@permission_required("governance.view_mandate", raise_exception=True)
def mandate_list(request: HttpRequest) -> HttpResponse:
    mandates = Mandate.objects.select_related("kam").order_by("kam__last_name", "-valid_from")
    return render(request, "governance/mandate_list.html", {"mandates": mandates})


@login_required
@permission_required("governance.view_mandate", raise_exception=True)
def mandate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mandate = get_object_or_404(
        Mandate.objects.prefetch_related("accounts__client", "team__user", "methods"), pk=pk
    )
    return _mandate_page(request, mandate, own=False)


def tell_refusal(request: HttpRequest, exc: Exception) -> None:
    """Tell the user why a service refused what they asked, in one message."""
    text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


@login_required
@permission_required("governance.add_exceptionrequest", raise_exception=True)
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
        )
    except (ValidationError, NotInMandate) as exc:
        tell_refusal(request, exc)
    else:
        messages.success(request, _("Your exception request is filed with its approver."))
    return redirect("governance:my-mandate")


@login_required
@permission_required("governance.view_exceptionrequest", raise_exception=True)
def exception_list(request: HttpRequest) -> HttpResponse:
    requests = ExceptionRequest.objects.select_related(
        "client", "requested_by", "decided_by"
    ).order_by("state", "respond_by")
    state = request.GET.get("state", ExceptionState.PENDING)
    if state in ExceptionState.values:
        requests = requests.filter(state=state)
    roles = approver_roles_of(request.user)
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    rows = [
        {"request": r, "may_decide": may_decide(user=request.user, request=r, roles=roles)}
        for r in page.object_list
    ]
    return render(
        request,
        "governance/exception_list.html",
        {
            "rows": rows,
            "page": page,
            "query": f"state={state}",
            "state": state,
            "states": ExceptionState.choices,
        },
    )


@login_required
@require_POST
def exception_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    # The tier's approver decides, or their deputy while they are away (who may hold no seat).
    item = get_object_or_404(ExceptionRequest, pk=pk)
    try:
        exception_decide(
            request=item,
            by=request.user,
            approve=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", ""),
        )
    except AlreadyDecided as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Decided."))
    return redirect("governance:exception-list")


def _spend_form(data: object, mandate: Mandate) -> SpendForm:
    return SpendForm(
        data,
        budgets=budgets_of(mandate=mandate, day=timezone.localdate()),
        exceptions=ExceptionRequest.objects.filter(
            mandate=mandate, state=ExceptionState.APPROVED
        ).select_related("client"),
    )


@login_required
@permission_required("governance.add_budgetspend", raise_exception=True)
@require_POST
def budget_spend_view(request: HttpRequest) -> HttpResponse:
    """Record spending from one of the KAM's budgets."""
    mandate = mandate_in_force(kam=request.user)
    if mandate is None:
        raise PermissionDenied
    form = _spend_form(request.POST, mandate)
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


@login_required
@permission_required("governance.add_departmentrequest", raise_exception=True)
@require_POST
def department_request_view(request: HttpRequest) -> HttpResponse:
    obligation = get_object_or_404(DepartmentObligation, pk=request.POST.get("obligation") or 0)
    client = request.POST.get("client", "")
    try:
        department_request(
            kam=request.user,
            obligation=obligation,
            client_id=int(client) if client.isdigit() else 0,
            text=request.POST.get("text", ""),
        )
    except (ValidationError, NotInMandate) as exc:
        tell_refusal(request, exc)
    else:
        messages.success(request, _("Your request is with the department."))
    return redirect("governance:my-mandate")


@login_required
def department_board(request: HttpRequest) -> HttpResponse:
    """Obligation owners see the requests they owe; directors and the committee the breaches."""
    sees_all = request.user.has_perm("governance.view_departmentrequest")
    owned = DepartmentRequest.objects.filter(obligation__owner=request.user)
    if not sees_all and not DepartmentObligation.objects.filter(owner=request.user).exists():
        raise PermissionDenied
    shown = DepartmentRequest.objects.all() if sees_all else owned
    return render(
        request,
        "governance/departments.html",
        {
            "requests": shown.select_related("obligation", "client", "requested_by")[:200],
            "breaches": list(breaches_by_department()) if sees_all else [],
            "now": timezone.now(),
            "labels": dict(Department.choices),
        },
    )


@login_required
@require_POST
def department_fulfil_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(DepartmentRequest.objects.select_related("obligation"), pk=pk)
    try:
        department_fulfil(request=item, by=request.user)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    messages.success(request, _("Marked fulfilled."))
    return redirect("governance:departments")
