"""Pages of proposals: the list, a proposal with its frozen evidence and live tally, voting,
recusal, withdrawal and closing.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.left_out import filters_left_out, page_of
from accounts.needs import need_changes_since
from accounts.refusals import ChangedMeanwhile, add_refusal
from governance.committee.filters import ProposalFilter
from governance.committee.forms import ProposalForm, VoteForm
from governance.committee.meetings import recusal_suggestions
from governance.committee.proposals import (
    named_votes_visible_to,
    proposal_close,
    proposal_create,
    proposal_open,
    proposal_withdraw,
    proposals_needing_vote,
    proposals_visible_to,
    proposals_with_my_vote,
    proposals_with_tally,
    recuse,
    tally_of,
    vote_cast,
)
from governance.lists import page_data, page_query
from governance.models import (
    MONEY_LIMITS,
    SUBJECTS,
    Decision,
    LimitKind,
    Proposal,
    ProposalState,
    Vote,
    VoteChoice,
)
from governance.permissions import (
    ADD_RECUSAL,
    CHANGE_PROPOSAL,
    CLOSE_PROPOSAL,
    VIEW_PROPOSAL,
)
from governance.recipients import entitled_members, has_stake


@login_required
@permission_required(VIEW_PROPOSAL, raise_exception=True)
def proposal_list(request: HttpRequest) -> HttpResponse:
    """Proposals with their tally, the reader's vote and the client's coverage when the vote
    opened; the "needs my vote" tab lists those waiting for the reader. A fixed number of
    queries, whatever the number of proposals."""
    user = request.user
    data = page_data(request, state=ProposalState.OPEN)
    mine = request.GET.get("mine") == "1"
    needing = proposals_needing_vote(user)  # empty, and never read, for one with no seat
    visible = proposals_visible_to(user)
    if mine:
        visible = visible.filter(pk__in=needing.values("pk"))
        data["state"] = "all"
    proposals = ProposalFilter(data, queryset=visible.select_related(*SUBJECTS).order_by("-pk"))
    queryset = proposals_with_my_vote(proposals_with_tally(proposals.qs), user=user)
    page, page_left_out = page_of(Paginator(queryset, 25), data.get("page"))
    waiting = set(
        needing.filter(pk__in=[proposal.pk for proposal in page.object_list]).values_list(
            "pk", flat=True
        )
    )
    rows = [
        {
            "proposal": proposal,
            "tally": tally_of(proposal) if proposal.state != ProposalState.DRAFT else None,
            "my_vote": VoteChoice(proposal.my_vote).label if proposal.my_vote else None,
            "needs_my_vote": proposal.pk in waiting,
            "coverage": proposal.evidence.get("coverage_percent"),
            "meets_ruler": proposal.evidence.get("meets_ruler"),
        }
        for proposal in page.object_list
    ]
    return render(
        request,
        "governance/committee/proposal_list.html",
        {
            "page": page,
            "rows": rows,
            "mine": mine,
            "needing_count": needing.count(),
            "state": "" if mine else data["state"],
            "states": ProposalState.choices,
            "query": page_query(data),
            "left_out": [*filters_left_out(proposals), *page_left_out],
        },
    )


def _proposal_context(request: HttpRequest, proposal: Proposal) -> dict[str, object]:
    tally = tally_of(proposal)
    entitled = entitled_members(proposal=proposal) if proposal.is_open else []
    votes = list(
        Vote.objects.filter(proposal=proposal).select_related("member").order_by("-cast_at")
    )
    current = {v.member_id: v for v in votes if v.is_current}
    named = named_votes_visible_to(request.user)
    return {
        "named_votes": named,
        "proposal": proposal,
        "tally": tally,
        "votes": votes if named else [],
        "current": list(current.values()) if named else [],
        "my_vote": current.get(request.user.pk),
        "can_vote": proposal.is_open and request.user in entitled,
        "stands_aside": proposal.is_open and has_stake(proposal=proposal, user=request.user),
        "not_voted": [m for m in entitled if m.pk not in current],
        "can_close": proposal.is_open
        and request.user.has_perm(CLOSE_PROPOSAL)
        and tally.outcome_is_settled()
        and not has_stake(proposal=proposal, user=request.user),
        "is_chair": request.user.has_perm(CLOSE_PROPOSAL),
        # Why the chair has no close button yet: votes still to come can change the outcome.
        "close_waits_for": tally.remaining
        if proposal.is_open
        and request.user.has_perm(CLOSE_PROPOSAL)
        and not tally.outcome_is_settled()
        else None,
        "recusal_suggestions": recusal_suggestions(proposal=proposal) if proposal.is_open else [],
        "version_content": json.dumps(proposal.version_content, indent=2, ensure_ascii=False),
        # What the exception a proposal decides asks, as frozen when its vote opened.
        "exception_breaches": [
            {
                "label": LimitKind(breach["limit"]).label,
                "asked": Decimal(breach["asked"]),
                "allowed": Decimal(breach["allowed"]),
                "is_money": breach["limit"] in MONEY_LIMITS,
            }
            for breach in proposal.version_content.get("breaches", [])
        ]
        if proposal.exception_request_id
        else [],
        # Needs edited after the evidence was frozen: the members vote on what no longer holds.
        "need_changes": list(
            need_changes_since(client_id=proposal.client_id, since=proposal.opened_at)[:5]
        )
        if proposal.client_id and proposal.opened_at
        else [],
    }


@login_required
@permission_required(VIEW_PROPOSAL, raise_exception=True)
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.select_related(*SUBJECTS, "decision"), pk=pk)
    context = _proposal_context(request, proposal)
    mine = context["my_vote"]
    # Changing a vote starts from the vote cast, not from a blank form.
    initial = {"choice": mine.choice, "comment": mine.comment} if mine else None
    form = VoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            vote_cast(
                proposal=proposal,
                member=request.user,
                choice=form.cleaned_data["choice"],
                comment=form.cleaned_data["comment"],
            )
        except ChangedMeanwhile as exc:  # closed meanwhile; NotEntitled is a 403 by itself
            messages.error(request, str(exc))
            return redirect(proposal)
        except ValidationError as exc:
            add_refusal(form, exc)
        else:
            messages.success(request, _("Your vote is recorded."))
            return redirect(proposal)
    context["form"] = form
    if request.htmx and request.method == "GET":
        return render(request, "governance/committee/proposal_detail.html#tally", context)
    return render(request, "governance/committee/proposal_detail.html", context)


@login_required
@permission_required(CLOSE_PROPOSAL, raise_exception=True)
@require_POST
def proposal_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        proposal = proposal_close(proposal=proposal, early=True, by=request.user)
    except ChangedMeanwhile as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Closed: %(outcome)s.") % {"outcome": proposal.get_state_display()}
        )
    return redirect(proposal)


def propose(
    request: HttpRequest, form: ProposalForm, *, supersedes: Decision | None = None
) -> Proposal | None:
    """Create the proposal of a valid form and open it for votes; None when the services
    refuse it, with their reasons put on the form and nothing kept (a proposal that cannot
    open is not left behind as a draft)."""
    try:
        with transaction.atomic():
            proposal = _create_and_open(form.cleaned_data, request.user, supersedes)
    except ValidationError as exc:
        add_refusal(form, exc)
        return None
    except ChangedMeanwhile as exc:  # another proposal about the client opened meanwhile
        form.add_error(None, str(exc))
        return None
    messages.success(request, _("The proposal is open for votes."))
    return proposal


def _create_and_open(data: dict, by: object, supersedes: Decision | None) -> Proposal:
    proposal = proposal_create(
        type=data["type"],
        title=data["title"],
        rationale=data["rationale"],
        by=by,
        client=data.get("client"),
        ruler=data.get("ruler"),
        policy=data.get("policy"),
        mandate=data.get("mandate"),
        review_date=data.get("review_date"),
        supersedes=supersedes,
        nominee=data.get("nominee"),
        committee_role=data.get("committee_role", ""),
        exception_request=data.get("exception_request"),
    )
    return proposal_open(proposal=proposal, deadline=data["deadline"])


@login_required
@permission_required(CHANGE_PROPOSAL, raise_exception=True)
@require_POST
def proposal_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposer or the chair withdraws a proposal (to change it, propose again)."""
    proposal = get_object_or_404(Proposal, pk=pk)
    if request.user != proposal.proposed_by and not request.user.has_perm(CLOSE_PROPOSAL):
        raise PermissionDenied
    try:
        proposal_withdraw(proposal=proposal)
    except ChangedMeanwhile as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The proposal is withdrawn; the votes cast stay on record."))
    return redirect(proposal)


@login_required
@permission_required(ADD_RECUSAL, raise_exception=True)
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
    except ChangedMeanwhile as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You stand aside on this proposal; your vote does not count."))
    return redirect(proposal)
