"""The directors' dashboards as pages: the portfolio, one KAM, one account, for a quarter
(``?period=YYYY-MM-DD``), each also as CSV or XLSX (``?format=csv|xlsx``).

Each view asks ``governance.kpis.access`` who may see what first, on every request; the page's
content is then read from the cache when it was built lately (``governance.kpis.cache``) and
built otherwise. Exports and an unreadable period are always built afresh."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.periods import InvalidPeriod, period_parse
from governance.kpis.access import (
    dashboard_client_for,
    dashboard_kam_for,
    dashboard_portfolio_access,
    may_see_portfolio,
)
from governance.kpis.cache import kept_page, page_key
from governance.kpis.dashboards.account import account_dashboard
from governance.kpis.dashboards.kam import kam_dashboard
from governance.kpis.dashboards.portfolio import portfolio_dashboard
from governance.kpis.dashboards.tables import Dashboard
from governance.kpis.exports import EXPORT_FORMATS, export_response
from governance.permissions import CHANGE_KPI_TARGET

SCHEDULE_PERM = "django_celery_beat.change_periodictask"


def _period(request: HttpRequest) -> tuple[datetime.date | None, str]:
    """The quarter asked for, or None and why it cannot be read (the page then shows the
    default quarter with that message)."""
    try:
        return period_parse(request.GET.get("period")), ""
    except InvalidPeriod as exc:
        return None, str(exc)


def _show(
    request: HttpRequest,
    *,
    scope: str,
    object_id: int | None,
    template: str,
    build: Callable[[datetime.date | None], Dashboard],
    **context: object,
) -> HttpResponse:
    """The page (or its export) of the dashboard ``build`` makes. ``context`` is what the page
    shows beyond the board; its flags are what differs between readers, so they are part of the
    kept page's key. The caller has checked who may see it."""
    period, error = _period(request)
    fmt = request.GET.get("format", "")
    if fmt in EXPORT_FORMATS and not error:
        return export_response(build(period), fmt)
    can_schedule = request.user.has_perm(SCHEDULE_PERM)

    def page() -> dict[str, object]:
        board = build(period)
        body = render_to_string(
            template,
            {
                "board": board,
                "period_error": error,
                "charts": board.chart_data(),
                "can_schedule": can_schedule,
                "as_of": timezone.localtime(),
                **context,
            },
        )
        return {"page_title": f"{board.title} · {board.period_label}", "body": body}

    if error:
        content = page()
    else:
        varies = "".join(
            f"{name}={int(bool(value))};"
            for name, value in sorted({**context, "can_schedule": can_schedule}.items())
            if isinstance(value, bool)
        )
        content = kept_page(page_key(scope, object_id, period, varies), page)
    return TemplateResponse(
        request,
        "page.html",
        {"page_title": content["page_title"], "body": mark_safe(content["body"])},
        status=400 if error else 200,
    )


@login_required
def dashboard_portfolio(request: HttpRequest) -> HttpResponse:
    dashboard_portfolio_access(request.user)
    return _show(
        request,
        scope="portfolio",
        object_id=None,
        template="governance/kpis/dashboard_portfolio.html",
        build=lambda period: portfolio_dashboard(period=period),
    )


@login_required
def dashboard_kam(request: HttpRequest, pk: int) -> HttpResponse:
    kam = dashboard_kam_for(request.user, pk)
    return _show(
        request,
        scope="kam",
        object_id=pk,
        template="governance/kpis/dashboard_kam.html",
        build=lambda period: kam_dashboard(kam=kam, period=period),
        sees_portfolio=may_see_portfolio(request.user),
        sets_targets=request.user.has_perm(CHANGE_KPI_TARGET),
    )


@login_required
def dashboard_account(request: HttpRequest, pk: int) -> HttpResponse:
    client = dashboard_client_for(request.user, pk)
    return _show(
        request,
        scope="account",
        object_id=pk,
        template="governance/kpis/dashboard_account.html",
        build=lambda period: account_dashboard(client=client, period=period),
        sees_portfolio=may_see_portfolio(request.user),
        sets_targets=request.user.has_perm(CHANGE_KPI_TARGET),
    )
