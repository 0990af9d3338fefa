"""Pages of the ruler: a client's scorecard and coverage matrix, runs and their progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.left_out import form_left_out, page_of
from accounts.models import User
from accounts.needs import need_changes_since
from accounts.selectors import client_get_for_user, clients_visible_to
from criteria.evaluation import NoRulerInForce, evaluation_preview, run_in_progress
from criteria.forms import (
    DEGREE_CHOICES,
    CoverageCellForm,
    CriteriaFormSet,
    FitRatingForm,
    PortfolioFilter,
    RulerVersionForm,
    USPForm,
)
from criteria.models import USP, Evaluation, EvaluationRun, NeedCoverage, RulerVersion
from criteria.selectors import (
    evaluation_history,
    last_finished_run,
    open_review_items_for,
    scorecard_for,
)
from criteria.services import (
    RulerNotDraft,
    coverage_set,
    fit_rate,
    ruler_draft_create,
    ruler_draft_locked,
)
from criteria.tasks import enqueue, reevaluate_all
from criteria.whatif import ruler_what_if


@login_required
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_get_for_user(request.user, pk, perm="criteria.view_evaluation")
    can_rate = request.user.has_perm("criteria.add_strategicfitrating")
    fit_form = FitRatingForm(request.POST or None) if can_rate else None
    if request.method == "POST":
        if fit_form is None:
            raise PermissionDenied
        if fit_form.is_valid():
            fit_rate(
                client=client,
                rating=fit_form.cleaned_data["rating"],
                comment=fit_form.cleaned_data["comment"],
                by=request.user,
            )
            messages.success(request, _("Strategic fit rated."))
            return redirect("criteria:scorecard", pk=client.pk)
    history = evaluation_history(client)
    try:
        live = scorecard_for(evaluation_preview(client=client))
    except NoRulerInForce:
        live = None
    context = {
        "client": client,
        "live": live,
        "last": scorecard_for(history[0]) if history else None,
        "history": history,
        "open_items": client.review_items.filter(closed_at__isnull=True),
        "fit_form": fit_form,
        "fit_ratings": client.fit_ratings.select_related("rated_by")[:5],
        # Needs edited since the last evaluation was made: its verdict predates them.
        "need_changes": list(
            need_changes_since(
                client_id=client.pk, since=history[0].created_at if history else None
            )[:5]
        ),
    }
    return render(request, "criteria/scorecard.html", context)


def _matrix_context(request: HttpRequest, client: object) -> dict[str, object]:
    needs = list(client.needs.order_by("-weight", "name"))
    usps = list(USP.objects.filter(retired_on__isnull=True).order_by("name"))
    degrees = {
        (need_id, usp_id): degree
        for need_id, usp_id, degree in NeedCoverage.objects.filter(need__client=client).values_list(
            "need_id", "usp_id", "degree"
        )
    }
    rows = [
        {
            "need": need,
            "cells": [{"usp": usp, "degree": degrees.get((need.pk, usp.pk))} for usp in usps],
        }
        for need in needs
    ]
    try:
        live = scorecard_for(evaluation_preview(client=client))
    except NoRulerInForce:
        live = None
    return {
        "client": client,
        "usps": usps,
        "rows": rows,
        "live": live,
        "degree_choices": DEGREE_CHOICES,
        "can_edit": request.user.has_perm("criteria.change_needcoverage"),
    }


@login_required
def coverage_matrix(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_get_for_user(request.user, pk, perm="criteria.view_needcoverage")
    if request.method == "POST":
        if not request.user.has_perm("criteria.change_needcoverage"):
            raise PermissionDenied
        form = CoverageCellForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(form.errors.as_text())
        need = get_object_or_404(client.needs, pk=form.cleaned_data["need"])
        coverage_set(need=need, usp=form.cleaned_data["usp"], degree=form.cleaned_data["degree"])
        if not request.htmx:
            return redirect("criteria:coverage", pk=client.pk)
        return render(
            request, "criteria/coverage.html#coverage-summary", _matrix_context(request, client)
        )
    return render(request, "criteria/coverage.html", _matrix_context(request, client))


@login_required
@permission_required("criteria.view_evaluationrun", raise_exception=True)
def ruler_overview(request: HttpRequest) -> HttpResponse:
    runs, left_out = page_of(
        Paginator(EvaluationRun.objects.select_related("ruler", "requested_by"), 10),
        request.GET.get("page"),
    )
    context = {
        "in_force": RulerVersion.objects.filter(status="in_force")
        .prefetch_related("criteria")
        .first(),
        "drafts": RulerVersion.objects.filter(status="draft"),
        "running": run_in_progress(),
        "last_run": last_finished_run(),
        "page": runs,
        "review_items": open_review_items_for(request.user)[:50],
        "left_out": left_out,
    }
    return render(request, "criteria/overview.html", context)


@login_required
@permission_required("criteria.start_evaluationrun", raise_exception=True)
@require_POST
def run_start_view(request: HttpRequest) -> HttpResponse:
    try:
        RulerVersion.objects.get(status="in_force")
    except RulerVersion.DoesNotExist:
        messages.error(request, _("No ruler version is in force yet: adopt one first."))
        return redirect("criteria:overview")
    if enqueue(reevaluate_all, request.user.pk):
        messages.success(request, _("Re-evaluation of every client started."))
    else:
        messages.error(
            request, _("The workers cannot be reached just now: start it again in a minute.")
        )
    return redirect("criteria:overview")


@login_required
@permission_required("criteria.view_evaluationrun", raise_exception=True)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(EvaluationRun.objects.select_related("ruler"), pk=pk)
    template = "criteria/run_progress.html" + ("#progress" if request.htmx else "")
    # Who may resume a stalled run: whoever may start one (by the roles' permissions, which
    # the model backend reads; the lock-out backend holds none).
    resumers = (
        User.objects.with_perm(
            "criteria.start_evaluationrun", backend="django.contrib.auth.backends.ModelBackend"
        ).order_by("username")[:10]
        if run.no_progress_since
        else []
    )
    return render(request, template, {"run": run, "resumers": resumers})


@login_required
@permission_required("criteria.view_rulerversion", raise_exception=True)
def ruler_version(request: HttpRequest, pk: int) -> HttpResponse:
    """A ruler version; a draft can be edited, compared with the one in force, and proposed to
    the committee, whose decision alone puts it in force."""
    ruler = get_object_or_404(RulerVersion.objects.prefetch_related("criteria"), pk=pk)
    editable = (
        ruler.is_draft
        and not ruler.under_vote
        and request.user.has_perm("criteria.change_rulerversion")
    )
    form = RulerVersionForm(request.POST or None, instance=ruler) if editable else None
    criteria = CriteriaFormSet(request.POST or None, instance=ruler, prefix="criteria")
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid() and criteria.is_valid():
            try:
                with ruler_draft_locked(ruler=ruler):
                    form.save()
                    criteria.save()
            except RulerNotDraft as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Draft saved."))
            return redirect("criteria:version", pk=ruler.pk)
    what_if = None
    # The what-if names clients across the portfolio: for those who see every client.
    if ruler.is_draft and request.user.has_perm("accounts.view_all_clients"):
        try:
            what_if = ruler_what_if(draft=ruler)
        except NoRulerInForce:
            what_if = None
    context = {
        "ruler": ruler,
        "form": form,
        "criteria": criteria if editable else None,
        "what_if": what_if,
    }
    return render(request, "criteria/version.html", context)


@login_required
@permission_required("criteria.add_rulerversion", raise_exception=True)
@require_POST
def ruler_draft_new(request: HttpRequest) -> HttpResponse:
    based_on = RulerVersion.objects.filter(status="in_force").first()
    # Titled by SKAM as data, said in each reader's language.
    draft = ruler_draft_create(based_on=based_on)
    messages.success(request, _("Draft %(ruler)s created.") % {"ruler": draft})
    return redirect("criteria:version", pk=draft.pk)


PORTFOLIO_POINTS = 3000


@login_required
@permission_required("criteria.view_evaluation", raise_exception=True)
def portfolio(request: HttpRequest) -> HttpResponse:
    """Every client on a map of coverage against potential, from the last finished run."""
    run = last_finished_run()
    filters = PortfolioFilter(request.GET or None, user=request.user)
    evaluations = Evaluation.objects.none()
    if run is not None:
        evaluations = filters.apply(
            Evaluation.objects.filter(run=run, client__in=clients_visible_to(request.user))
        )
    # The verdict is the last run's; the status is today's (the committee may have decided
    # since the run): never the status the run saw, which only the history shows.
    key = Q(client__is_key=True)
    summary = evaluations.aggregate(
        clients=Count("pk"),
        key_meets=Count("pk", filter=key & Q(meets_ruler=True)),
        key_fails=Count("pk", filter=key & Q(meets_ruler=False)),
        meets_not_key=Count("pk", filter=~key & Q(meets_ruler=True)),
        neither=Count("pk", filter=~key & Q(meets_ruler=False)),
    )
    points = list(
        evaluations.exclude(coverage_ratio__isnull=True)
        .order_by("-potential_revenue")
        .values_list(
            "client_id", "client__name", "coverage_ratio", "potential_revenue",
            "client__is_key", "meets_ruler",
        )[:PORTFOLIO_POINTS]
    )  # fmt: skip
    chart = {
        "threshold": float(run.ruler.coverage_threshold * 100) if run else 75.0,
        "points": [
            {
                "id": pk,
                "name": name,
                "x": round(float(ratio) * 100, 1),
                "y": float(potential or 0),
                "group": ("key" if key else "other") + ("_meets" if meets else "_fails"),
            }
            for pk, name, ratio, potential, key, meets in points
        ],
        "labels": {
            "key_meets": _("Key, meets the ruler"),
            "key_fails": _("Key, does not meet the ruler"),
            "other_meets": _("Not key, meets the ruler"),
            "other_fails": _("Not key, does not meet the ruler"),
            "threshold": _("Threshold"),
            "x": _("Coverage of needs, %"),
            "y": _("Potential revenue over the horizon"),
        },
    }
    disagreements = (
        evaluations.exclude(client__is_key=F("meets_ruler"))
        .select_related("client", "client__owner_kam")
        .order_by("-potential_revenue", "client__name")
    )
    page, page_left_out = page_of(Paginator(disagreements, 50), request.GET.get("page"))
    context = {
        "run": run,
        "filters": filters,
        "summary": summary,
        "chart": chart,
        "truncated": summary["clients"] > PORTFOLIO_POINTS,
        "page": page,
        "query": _query_without_page(request),
        "left_out": [*form_left_out(filters, request.GET), *page_left_out],
    }
    return render(request, "criteria/portfolio.html", context)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@permission_required("criteria.view_usp", raise_exception=True)
def usp_list(request: HttpRequest) -> HttpResponse:
    """The USP catalogue, with how many client needs each meets today."""
    usps = USP.objects.annotate(needs_met=Count("coverages")).order_by("retired_on", "name")
    return render(request, "criteria/usp_list.html", {"usps": usps})


@login_required
def usp_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a USP or change one; a USP is retired by giving the date, never deleted."""
    perm = "criteria.change_usp" if pk else "criteria.add_usp"
    if not request.user.has_perm(perm):
        raise PermissionDenied
    usp = get_object_or_404(USP, pk=pk) if pk else USP()
    form = USPForm(request.POST or None, instance=usp)
    if request.method == "POST" and form.is_valid():
        usp = form.save()
        messages.success(request, _("USP “%(name)s” saved.") % {"name": usp.name})
        return redirect("criteria:usp-list")
    return render(request, "criteria/usp_form.html", {"form": form, "usp": usp})
