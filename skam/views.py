"""Project-level pages: home and the friendly error pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext
from django.views.i18n import set_language

from accounts.models import User
from accounts.periods import quarter_start
from accounts.selectors import clients_visible_to
from governance.committee.meetings import meetings_upcoming
from governance.committee.proposals import proposals_needing_vote
from governance.drift import drift_counts
from governance.kpis.access import may_see_portfolio
from governance.kpis.dashboards.portfolio import quarter_kpi_states
from governance.kpis.states import KpiState, kpi_rows_for_kam
from governance.models import SUBJECTS
from governance.permissions import VIEW_DECISION, VIEW_OWN_MANDATE
from governance.shell.exception_requests import (
    answers_awaited,
    exception_requests_to_decide,
    exception_requests_waiting,
)
from governance.shell.mandates import mandate_summary

# How many rows of a list the home page shows before "see all".
HOME_ROWS = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.has_perm(VIEW_OWN_MANDATE) and not user.has_perm("accounts.view_all_clients"):
        # A KAM's counts are My mandate's: the accounts it names, and the key clients they
        # work outside it (flagged), never the register's accounts under another name.
        today = timezone.localdate()
        kpis = kpi_rows_for_kam(kam=user, period=today, history=1)
        waiting = exception_requests_waiting(kam=user)
        return render(
            request,
            "home.html",
            {
                "mandate": mandate_summary(kam=user, day=today),
                "quarter": quarter_start(today),
                "my_kpis_off": [row for row in kpis if row.state == KpiState.BAD],
                "my_kpis_watch": [row for row in kpis if row.state == KpiState.WATCH],
                # Each with who must answer it now, off My mandate's escalation ladder.
                "my_requests": answers_awaited(waiting[:HOME_ROWS]),
                "my_requests_count": waiting.count(),
            },
        )
    clients = clients_visible_to(user)
    summary = clients.aggregate(total=Count("pk"), key=Count("pk", filter=Q(is_key=True)))
    context: dict[str, object] = {"summary": summary}
    if user.has_perm("governance.add_vote"):  # sits on the committee
        waiting = proposals_needing_vote(user)
        context["needs_my_vote"] = list(waiting.select_related(*SUBJECTS)[:HOME_ROWS])
        context["needs_my_vote_count"] = waiting.count()
        # The exception requests of the tiers this member decides (or stands in for).
        to_decide = exception_requests_to_decide(user)
        context["to_decide"] = list(to_decide[:HOME_ROWS])
        context["to_decide_count"] = to_decide.count()
    if user.has_perm(VIEW_DECISION):  # follows the committee: its meetings and its drift
        upcoming = meetings_upcoming(user)
        context["meetings"] = list(upcoming[:HOME_ROWS])
        context["meetings_count"] = upcoming.count()
        # The drift panel's own counts, never counted a second way.
        context["drift_counts"] = drift_counts()
        context["drift_total"] = sum(indicator.count for indicator in context["drift_counts"])
    if may_see_portfolio(user):
        # The director's day: the quarter's KPI states, as the portfolio's KAM table counts
        # them.
        context["kpi_states"] = quarter_kpi_states(quarter_start(timezone.localdate()))
    return render(request, "home.html", context)


def language_set(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language``; a person signed in is also written to in that language from
    then on (``User.language``: their e-mail, whoever's act it tells of)."""
    response = set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES) and user.language != language:
        User.objects.filter(pk=user.pk).update(language=language)
    return response


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):  # the API answers in JSON, as its schema says
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the database may be what failed.
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
