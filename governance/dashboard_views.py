"""The directors' dashboards as pages: the portfolio, one KAM, one account, for a quarter
(``?period=YYYY-MM-DD``), each also as CSV or XLSX (``?format=csv|xlsx``)."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.dashboard_exports import EXPORT_FORMATS, export_response
from governance.dashboards import (
    VIEW_DASHBOARD,
    Dashboard,
    InvalidPeriod,
    account_dashboard,
    dashboard_client_for,
    dashboard_kam_for,
    kam_dashboard,
    period_parse,
    portfolio_dashboard,
)


def _period(request: HttpRequest) -> tuple[datetime.date | None, str]:
    """The quarter asked for, or None and why it cannot be read (the page then shows the
    default quarter with that message)."""
    try:
        return period_parse(request.GET.get("period")), ""
    except InvalidPeriod as exc:
        return None, str(exc)


def _show(
    request: HttpRequest, template: str, board: Dashboard, error: str, **context: object
) -> HttpResponse:
    fmt = request.GET.get("format", "")
    if fmt in EXPORT_FORMATS and not error:
        return export_response(board, fmt)
    return render(
        request,
        template,
        {
            "board": board,
            "period_error": error,
            "charts": board.chart_data(),
            "can_schedule": request.user.has_perm("django_celery_beat.change_periodictask"),
            **context,
        },
        status=400 if error else 200,
    )


@login_required
def dashboard_portfolio(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_DASHBOARD):
        raise PermissionDenied
    period, error = _period(request)
    board = portfolio_dashboard(period=period)
    return _show(request, "governance/dashboard_portfolio.html", board, error)


@login_required
def dashboard_kam(request: HttpRequest, pk: int) -> HttpResponse:
    kam = dashboard_kam_for(request.user, pk)
    period, error = _period(request)
    board = kam_dashboard(kam=kam, period=period)
    return _show(
        request,
        "governance/dashboard_kam.html",
        board,
        error,
        kam=kam,
        sees_portfolio=request.user.has_perm(VIEW_DASHBOARD),
    )


@login_required
def dashboard_account(request: HttpRequest, pk: int) -> HttpResponse:
    client = dashboard_client_for(request.user, pk)
    period, error = _period(request)
    board = account_dashboard(client=client, period=period)
    return _show(
        request,
        "governance/dashboard_account.html",
        board,
        error,
        client=client,
        sees_portfolio=request.user.has_perm(VIEW_DASHBOARD),
    )
