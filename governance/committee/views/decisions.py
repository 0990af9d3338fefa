"""Pages of what the committee decided: the decision register, the policy in force and the
drift panel. Revisiting a decision is the new-proposal flow's (``views/new_proposal.py``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.left_out import filters_left_out, page_of
from accounts.models import Client
from governance.committee.filters import DecisionFilter
from governance.committee.proposals import decisions_visible_to
from governance.drift import (
    DRIFT_ROWS,
    clients_buying_decisions,
    drift,
    drift_counts,
    shell_drift,
)
from governance.lists import page_query
from governance.models import (
    Policy,
    PolicyStatus,
    ProposalType,
)
from governance.permissions import VIEW_DECISION


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def decision_register(request: HttpRequest) -> HttpResponse:
    decisions = DecisionFilter(
        request.GET,
        queryset=decisions_visible_to(request.user).select_related(
            "client", "proposal", "superseded_by"
        ),
    )
    page, page_left_out = page_of(Paginator(decisions.qs, 50), request.GET.get("page"))
    return render(
        request,
        "governance/committee/decision_list.html",
        {
            "page": page,
            "types": ProposalType.choices,
            "type": request.GET.get("type", ""),
            "query": page_query(request.GET),
            "left_out": [*filters_left_out(decisions), *page_left_out],
        },
    )


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
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
        "bets_past_review": list(found.bets_past_review[:limit]),
        "bets": list(found.bets[:limit]),
        "bets_count": found.bets.count(),
        "today": timezone.localdate(),
        "meeting_never_considered": list(found.meeting_never_considered[:limit]),
        "buying_decisions": list(clients_buying_decisions()[:limit]),
        "key_outside_mandates": list(shell.key_outside_mandates[:limit]),
        "mandates_without_targets": list(shell.mandates_without_targets[:limit]),
        "incidents_overdue": list(shell.incidents_overdue[:limit]),
        "mandates_expired": list(shell.mandates_expired[:limit]),
        "requests_overdue": list(shell.requests_overdue[:limit]),
        # The tiles: the same counts as the directors' dashboard's drift block.
        "counts": drift_counts(),
        "limit": limit,
    }
    return render(request, "governance/committee/drift.html", context)


@login_required
@permission_required(VIEW_DECISION, raise_exception=True)
def policy_overview(request: HttpRequest) -> HttpResponse:
    """The policy in force, its decision rules, and drafts waiting for the committee."""
    policies = Policy.objects.prefetch_related("rules").order_by("-number")
    return render(
        request,
        "governance/committee/policy.html",
        {
            "in_force": next((p for p in policies if p.status == PolicyStatus.IN_FORCE), None),
            "drafts": [p for p in policies if p.status == PolicyStatus.DRAFT],
            "key_clients": Client.objects.filter(is_key=True).count(),
        },
    )
