"""The new-proposal flow: first the question, then only what that question needs; a client is
chosen with a picker that shows its coverage and the route the ruler leaves open."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from accounts.models import Client
from accounts.selectors import clients_visible_to
from governance.committee.forms import ProposalForm
from governance.committee.proposing import (
    QUESTION_FIELDS,
    QUESTION_GROUPS,
    QUESTIONS,
    client_route,
    open_proposal_deciding,
    picker_clients,
    title_suggested,
)
from governance.committee.views.proposals import propose
from governance.models import Decision, ProposalType
from governance.permissions import ADD_PROPOSAL

# A search longer than any client's name is not a search.
SEARCH_MAX_LENGTH = 200
# What a link may pre-choose, besides the client.
SUBJECTS = ("ruler", "policy", "mandate", "nominee", "exception_request")


@login_required
@permission_required(ADD_PROPOSAL, raise_exception=True)
def proposal_new(request: HttpRequest) -> HttpResponse:
    """The first step: which question is put to the committee. A link or a form that names the
    question already (``type``) gets that question's page."""
    question = request.POST.get("type") or request.GET.get("type")
    if question:
        return _question_page(request, question)
    if request.method == "POST":
        return HttpResponseBadRequest(_("Choose the question for the committee first."))
    return render(
        request,
        "governance/committee/proposal_new.html",
        {"groups": QUESTION_GROUPS, "client": request.GET.get("client", "")},
    )


@login_required
@permission_required(ADD_PROPOSAL, raise_exception=True)
def proposal_new_question(request: HttpRequest, question: str) -> HttpResponse:
    return _question_page(request, question)


def _question_page(
    request: HttpRequest, question: str, *, revisiting: Decision | None = None
) -> HttpResponse:
    """A question's page: its client picked (or, ``revisiting`` a decision, that decision's
    client), the route the ruler leaves open, and the form asking only what it needs."""
    if question not in QUESTIONS:
        raise Http404(_("No such question for the committee."))
    about = QUESTIONS[question]
    search = request.GET.get("q", "")
    if len(search) > SEARCH_MAX_LENGTH:
        return HttpResponseBadRequest(_("The search is too long."))
    clients = clients_visible_to(request.user)
    client = None
    if revisiting is not None:
        client = revisiting.client
        clients = clients.filter(pk=client.pk)
    elif about.is_about_a_client:
        chosen = request.POST.get("client") if request.method == "POST" else None
        chosen = chosen or request.GET.get("client")
        if chosen:
            if not chosen.isascii() or not chosen.isdigit() or len(chosen) > 18:
                return HttpResponseBadRequest(_("A client is named by its number."))
            client = clients.filter(pk=int(chosen)).first()
            if client is None:
                raise Http404(_("No such client."))
    initial = {name: request.GET[name] for name in SUBJECTS if name in request.GET}
    if question == ProposalType.DECIDE_EXCEPTION and request.method == "GET":
        before = open_proposal_deciding(initial.get("exception_request", ""))
        if before is not None:
            messages.info(
                request,
                _("This request is already before the committee: one proposal decides it."),
            )
            return redirect(before)
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        question=question,
        clients=clients,
        initial={**initial, **({"client": client.pk} if client else {})},
    )
    if request.method == "POST" and form.is_valid():
        proposal = propose(request, form, supersedes=revisiting)
        if proposal is not None:
            return redirect(proposal)
    if not form.is_bound:
        subject = client or _subject_of(form, question, initial)
        form.initial["title"] = title_suggested(
            question=question, subject=subject, revisiting=revisiting
        )
    route = client_route(question=question, client=client) if client else None
    # Arriving from a request: what it asks, above the form that puts it to the committee.
    exception = None
    if "exception_request" in form.fields:
        exception = _subject_of(form, question, initial) if not form.is_bound else None
    if revisiting is not None:
        revisit_url = reverse("governance:decision-revisit", args=[revisiting.pk])
        here = f"{revisit_url}?type={question}"
        instead_url = f"{revisit_url}?type={route.instead}" if route and route.instead else ""
    else:
        here = reverse("governance:proposal-new-question", args=[question])
        instead_url = (
            reverse("governance:proposal-new-question", args=[route.instead])
            + f"?client={client.pk}"
            if route and route.instead
            else ""
        )
    context = {
        "exception": exception,
        "question": about,
        # The page's own address, which the picker's results (rendered alone for htmx) link to.
        "here": here,
        "instead_url": instead_url,
        "form": form,
        "client": client,
        "route": route,
        "search": search,
        "revisiting": revisiting,
        "revisit_questions": [QUESTIONS[q] for q in revisit_questions(revisiting.client)]
        if revisiting is not None
        else [],
        "picker": picker_clients(user=request.user, question=question, text=search)
        if about.is_about_a_client and revisiting is None and (client is None or search)
        else None,
    }
    template = "governance/committee/proposal_question.html"
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template += "#picker-results"
    response = render(request, template, context)
    # The same URL answers with the page or the picker's results: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def revisit_questions(client: Client) -> tuple[str, ...]:
    """The questions a decision on ``client`` is revisited under: a key client's status is
    ended or held as a strategic bet (a bet's review renews it with a new review date); a
    regular client is granted key status or bet on."""
    if client.is_key:
        return (ProposalType.REVOKE_KEY, ProposalType.STRATEGIC_BET)
    return (ProposalType.GRANT_KEY, ProposalType.STRATEGIC_BET)


@login_required
@permission_required(ADD_PROPOSAL, raise_exception=True)
def decision_revisit(request: HttpRequest, pk: int) -> HttpResponse:
    """Revisit a decision: the new-proposal flow's question page about the decision's client,
    prefilled, the proposal linked to the decision it would supersede. The question is one of
    ``revisit_questions`` (``?type=``); by default the one the ruler leaves open."""
    decision = get_object_or_404(Decision.objects.select_related("client", "proposal"), pk=pk)
    if decision.superseded_by_id:
        messages.error(request, _("This decision has been superseded already."))
        return redirect("governance:decision-list")
    if decision.client is None:
        messages.error(request, _("Only decisions on a client's key status are revisited here."))
        return redirect("governance:decision-list")
    offered = revisit_questions(decision.client)
    question = request.GET.get("type") or ""
    if question and question not in offered:
        return HttpResponseBadRequest(
            _("A decision on this client is revisited by one of: %(questions)s.")
            % {"questions": ", ".join(str(QUESTIONS[q].label) for q in offered)}
        )
    if not question:
        question = offered[0]
        route = client_route(question=question, client=decision.client)
        if route.instead in offered:
            question = route.instead
    return _question_page(request, question, revisiting=decision)


def _subject_of(form: ProposalForm, question: str, initial: dict[str, str]) -> object | None:
    """The ruler, policy, mandate or person a link pre-chose, when it is one the question may
    name (anything else is left for the form to refuse when it is sent)."""
    for name in QUESTION_FIELDS[question]:
        if name in SUBJECTS and name in initial:
            try:
                return form.fields[name].clean(initial[name])
            except ValidationError:
                return None
    return None
