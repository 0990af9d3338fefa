"""The KPIs and dashboards as JSON, with the same figures and permissions as the pages.

* ``GET /api/kpis/``: the catalogue; ``/api/kpi-targets/``, ``/api/kpi-entries/``,
  ``/api/kpi-snapshots/``;
* ``GET /api/dashboards/portfolio/``, ``/kam/{id}/``, ``/account/{id}/`` with ``?period=``.
"""

from __future__ import annotations

import datetime

import django_filters
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import ReadsOrOwn, RolePermissions
from accounts.filtering import IdFilter
from accounts.models import Client
from accounts.periods import QUARTER_PATTERN, InvalidPeriod, period_parse
from accounts.selectors import kams
from governance.kpis.access import (
    dashboard_client_for,
    dashboard_kam_for,
    dashboard_portfolio_access,
    kpi_snapshots_visible_to,
)
from governance.kpis.dashboards.account import account_dashboard
from governance.kpis.dashboards.kam import kam_dashboard
from governance.kpis.dashboards.portfolio import portfolio_dashboard
from governance.kpis.figures import (
    kpi_entry_record,
    kpi_target_errors,
    kpi_targets_log,
    kpi_targets_refuse_own,
)
from governance.models import (
    Kpi,
    KpiEntry,
    KpiScope,
    KpiSnapshot,
    KpiSource,
    KpiTarget,
)
from governance.permissions import VIEW_DASHBOARD, VIEW_KPI, VIEW_KPI_TARGET, VIEW_OWN_KPIS

PERIOD = OpenApiParameter(
    "period",
    OpenApiTypes.DATE,
    description="First day of a quarter; default: the latest quarter with snapshots.",
    pattern=QUARTER_PATTERN,
)


def _period(request: Request) -> datetime.date | None:
    raw = request.query_params.get("period")
    if raw == "":
        raise exceptions.ValidationError(
            {"period": [_("Give the first day of a quarter, or leave the parameter out.")]}
        )
    try:
        return period_parse(raw)
    except InvalidPeriod as exc:
        raise exceptions.ValidationError({"period": [str(exc)]}) from exc


class PortfolioDashboardView(APIView):
    @extend_schema(parameters=[PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        dashboard_portfolio_access(request.user)
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


class TargetPermissions(RolePermissions):
    """Model permissions, except that a KAM reads their own mandates' targets."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS and request.user.has_perm(VIEW_OWN_KPIS):
            return True
        return super().has_permission(request, view)


class KpiSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kpi
        fields = [
            "id",
            "code",
            "name",
            "unit",
            "direction",
            "source",
            "description",
            "watch_band_percent",
        ]
        read_only_fields = fields


class KpiViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = KpiSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_KPI, VIEW_OWN_KPIS)
    queryset = Kpi.objects.order_by("name", "pk")
    filterset_fields = ["source", "unit"]


class KpiTargetSerializer(serializers.ModelSerializer):
    kpi_code = serializers.CharField(source="kpi.code", read_only=True)

    class Meta:
        model = KpiTarget
        fields = ["id", "kpi", "kpi_code", "mandate", "client", "period", "target"]
        # One target per KPI, mandate, quarter and account: checked in ``validate``.
        validators: list[object] = []

    def validate(self, data: dict[str, object]) -> dict[str, object]:
        instance = self.instance

        def value(name: str) -> object:
            return data[name] if name in data else getattr(instance, name, None)

        errors = kpi_target_errors(
            mandate=value("mandate"),
            kpi=value("kpi"),
            period=value("period"),
            client=value("client"),
            target_id=instance.pk if instance else None,
        )
        if errors:
            # With their codes: only an account outside the mandate or a twin is a 409.
            raise serializers.ValidationError(
                {name: get_error_detail(error) for name, error in errors.items()}
            )
        return data


class KpiTargetViewSet(viewsets.ModelViewSet):
    serializer_class = KpiTargetSerializer
    permission_classes = [TargetPermissions]
    filterset_fields = ["mandate", "kpi", "period", "client"]

    def get_queryset(self) -> QuerySet[KpiTarget]:
        if getattr(self, "swagger_fake_view", False):  # the schema, asked with no user
            return KpiTarget.objects.none()
        targets = KpiTarget.objects.select_related("kpi").order_by("mandate_id", "period", "kpi_id")
        user = self.request.user
        if not user.has_perm(VIEW_KPI_TARGET):
            targets = targets.filter(mandate__kam=user)
        return targets

    def _log(self, target: KpiTarget, message: str) -> None:
        kpi_targets_log(mandate=target.mandate, by=self.request.user, message=message)

    def _save(self, serializer: serializers.BaseSerializer) -> KpiTarget:
        """``validate`` checked for a twin; one saved meanwhile is the same refusal, not a
        server error."""
        try:
            with transaction.atomic():
                return serializer.save()
        except IntegrityError:
            raise serializers.ValidationError(
                {"period": [_("This KPI already has a target for that quarter and account.")]},
                code="unique",
            ) from None

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        kpi_targets_refuse_own(mandate=serializer.validated_data["mandate"], by=self.request.user)
        target = self._save(serializer)
        self._log(target, _("Target set: %(target)s") % {"target": target})

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        kpi_targets_refuse_own(mandate=serializer.instance.mandate, by=self.request.user)
        if "mandate" in serializer.validated_data:
            kpi_targets_refuse_own(
                mandate=serializer.validated_data["mandate"], by=self.request.user
            )
        target = self._save(serializer)
        self._log(target, _("Target changed: %(target)s") % {"target": target})

    def perform_destroy(self, instance: KpiTarget) -> None:
        kpi_targets_refuse_own(mandate=instance.mandate, by=self.request.user)
        self._log(instance, _("Target removed: %(target)s") % {"target": instance})
        instance.delete()


class KpiEntrySerializer(serializers.ModelSerializer):
    kpi = serializers.PrimaryKeyRelatedField(queryset=Kpi.objects.filter(source=KpiSource.MANUAL))
    kam = serializers.PrimaryKeyRelatedField(queryset=kams(including_former=True))
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.all(), allow_null=True, required=False
    )
    entered_by_name = serializers.CharField(source="entered_by.__str__", read_only=True)

    class Meta:
        model = KpiEntry
        fields = [
            "id",
            "kpi",
            "period",
            "kam",
            "client",
            "value",
            "note",
            "entered_by",
            "entered_by_name",
            "entered_at",
        ]
        read_only_fields = ["entered_by", "entered_at"]

    def create(self, validated_data: dict[str, object]) -> KpiEntry:
        return kpi_entry_record(
            kpi=validated_data["kpi"],
            period=validated_data["period"],
            kam=validated_data["kam"],
            client=validated_data.get("client"),
            value=validated_data["value"],
            note=validated_data.get("note", ""),
            by=self.context["request"].user,
        )


class KpiEntryViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = KpiEntrySerializer
    permission_classes = [RolePermissions]
    filterset_fields = ["kpi", "period", "kam", "client"]
    queryset = KpiEntry.objects.select_related("entered_by").order_by("-entered_at", "-pk")


class KpiSnapshotFilter(django_filters.FilterSet):
    period = django_filters.DateFilter()
    scope = django_filters.ChoiceFilter(choices=KpiScope.choices)
    kam = IdFilter(field_name="kam_id")
    client = IdFilter(field_name="client_id")
    kpi = IdFilter(field_name="kpi_id")

    class Meta:
        model = KpiSnapshot
        fields = ["period", "scope", "kam", "client", "kpi"]


class KpiSnapshotSerializer(serializers.ModelSerializer):
    kpi_code = serializers.CharField(source="kpi.code", read_only=True)
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    unit = serializers.CharField(source="kpi.unit", read_only=True)

    class Meta:
        model = KpiSnapshot
        fields = [
            "id",
            "kpi",
            "kpi_code",
            "kpi_name",
            "unit",
            "period",
            "scope",
            "scope_key",
            "kam",
            "client",
            "value",
            "computed_at",
        ]
        read_only_fields = fields


class KpiSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = KpiSnapshotSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_DASHBOARD, VIEW_OWN_KPIS)
    filterset_class = KpiSnapshotFilter

    def get_queryset(self) -> QuerySet[KpiSnapshot]:
        if getattr(self, "swagger_fake_view", False):  # the schema, asked with no user
            return KpiSnapshot.objects.none()
        params = self.request.query_params
        snapshots = kpi_snapshots_visible_to(
            self.request.user, scope=params.get("scope"), kam_id=params.get("kam")
        )
        return snapshots.select_related("kpi").order_by("period", "kpi_id", "pk")
