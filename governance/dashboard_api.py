"""The dashboards as JSON, with the same figures and permissions as the pages:

* ``GET /api/dashboards/portfolio/?period=YYYY-MM-DD`` (``governance.view_dashboard``);
* ``GET /api/dashboards/kam/{user id}/?period=…`` (also a KAM, for themselves);
* ``GET /api/dashboards/account/{client id}/?period=…`` (also a KAM, for their mandate's
  accounts).

Each answers ``{"scope", "title", "period", "periods", "has_snapshots", "headlines",
"tables": [{"key", "title", "columns", "rows"}]}``; a cell with a state is ``{"value",
"state"}``. An unreadable period is a 400.
"""

from __future__ import annotations

import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.dashboards import (
    VIEW_DASHBOARD,
    InvalidPeriod,
    account_dashboard,
    dashboard_client_for,
    dashboard_kam_for,
    kam_dashboard,
    period_parse,
    portfolio_dashboard,
)

PERIOD = OpenApiParameter(
    "period",
    OpenApiTypes.DATE,
    description="First day of a quarter; default: the latest quarter with snapshots.",
)


def _period(request: Request) -> datetime.date | None:
    try:
        return period_parse(request.query_params.get("period"))
    except InvalidPeriod as exc:
        raise exceptions.ValidationError({"period": [str(exc)]}) from exc


class PortfolioDashboardView(APIView):
    @extend_schema(parameters=[PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        if not request.user.has_perm(VIEW_DASHBOARD):
            raise exceptions.PermissionDenied
        return Response(portfolio_dashboard(period=_period(request)).as_dict())


class KamDashboardView(APIView):
    @extend_schema(parameters=[PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        kam = dashboard_kam_for(request.user, pk)
        return Response(kam_dashboard(kam=kam, period=_period(request)).as_dict())


class AccountDashboardView(APIView):
    @extend_schema(parameters=[PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, pk: int) -> Response:
        client = dashboard_client_for(request.user, pk)
        return Response(account_dashboard(client=client, period=_period(request)).as_dict())
