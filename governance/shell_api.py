"""REST endpoints of the management shell: exception requests, budgets and spending, department
requests, the playbook and incidents. Each goes through the same services as the pages, so the
API can do nothing a page refuses:

* a KAM reads and writes only their own requests, spending and incidents; the committee,
  directors and the administrator read everything;
* a client outside the caller's mandate is a 404, a refused action a 400 with the reason, an
  action on something decided meanwhile a 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import quarter_start
from governance.api import Conflict, MandateCheckSerializer
from governance.budgets import budget_allocate, budget_spend, with_spent
from governance.departments import department_fulfil, department_request
from governance.incidents import (
    incident_close,
    incident_declare,
    incident_note,
    incident_take,
    incidents_visible_to,
    may_see_incidents,
)
from governance.mandates import (
    Moved,
    NotInMandate,
    exception_decide,
    exception_file,
    exception_withdraw,
)
from governance.models import (
    LIMIT_FIELDS,
    Budget,
    BudgetSpend,
    DepartmentObligation,
    DepartmentRequest,
    EscalationTier,
    ExceptionRequest,
    Incident,
    IncidentUpdate,
    Mandate,
    MandateAccount,
    MandateTeamMember,
    RelationshipMethod,
    SituationType,
    SpendCategory,
)


@contextmanager
def refusals() -> Iterator[None]:
    """A service's refusal as the API's answer: a client outside the caller's mandate is a 404,
    a rule broken a 400 with the reason, a change made meanwhile by someone else a 409 (Django's
    ``PermissionDenied`` is DRF's 403 already)."""
    try:
        yield
    except NotInMandate as exc:
        raise exceptions.NotFound(str(exc)) from exc
    except Moved as exc:
        raise Conflict(str(exc)) from exc
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise serializers.ValidationError(detail) from exc


class ReadsOrOwn(permissions.BasePermission):
    """Every call needs the model's ``view`` permission or the KAM's own-mandate permission
    (the queryset then narrows to their own); a write also needs what its action names."""

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        if not user.is_authenticated:
            return False
        if not any(user.has_perm(perm) for perm in view.read_perms):
            return False
        needed = getattr(view, "write_perms", {}).get(view.action)
        return needed is None or user.has_perm(needed)


# Exception requests ---------------------------------------------------------------------------


class ExceptionRequestSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.__str__", read_only=True)

    class Meta:
        model = ExceptionRequest
        fields = [
            "id",
            "client",
            "client_name",
            "requested_by",
            "requested_by_name",
            "asked",
            "breaches",
            "justification",
            "approver",
            "state",
            "respond_by",
            "decided_by",
            "decided_at",
            "decision_comment",
            "created_at",
        ]
        read_only_fields = fields


class ExceptionFileSerializer(MandateCheckSerializer):
    justification = serializers.CharField()


class ExceptionDecideSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ExceptionRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """``POST`` files a request for a deal past the caller's mandate;
    ``POST {id}/decide/`` with ``{"approve": bool, "comment": ""}`` decides it (the tier's
    approver or their deputy; 409 once decided); ``POST {id}/withdraw/`` withdraws one's own."""

    serializer_class = ExceptionRequestSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_exceptionrequest", "governance.view_own_mandate")
    write_perms = {
        "create": "governance.add_exceptionrequest",
        "withdraw": "governance.add_exceptionrequest",
    }
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["state", "approver", "client"]

    def get_queryset(self) -> QuerySet[ExceptionRequest]:
        requests = ExceptionRequest.objects.select_related("client", "requested_by").order_by(
            "-created_at", "-pk"
        )
        if self.request.user.has_perm("governance.view_exceptionrequest"):
            return requests
        return requests.filter(requested_by=self.request.user)

    @extend_schema(request=ExceptionFileSerializer, responses=ExceptionRequestSerializer)
    def create(self, request: Request) -> Response:
        data = ExceptionFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = {
            k: Decimal(v)
            for k, v in data.validated_data.items()
            if k not in ("client", "justification")
        }
        with refusals():
            item = exception_file(
                kam=request.user,
                client_id=data.validated_data["client"],
                asked=asked,
                justification=data.validated_data["justification"],
            )
        return Response(ExceptionRequestSerializer(item).data, status=201)

    @extend_schema(request=ExceptionDecideSerializer, responses=ExceptionRequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = ExceptionDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals():
            item = exception_decide(
                request=item,
                by=request.user,
                approve=data.validated_data["approve"],
                comment=data.validated_data["comment"],
            )
        return Response(ExceptionRequestSerializer(item).data)

    @extend_schema(request=None, responses=ExceptionRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        with refusals():
            item = exception_withdraw(request=item, by=request.user)
        return Response(ExceptionRequestSerializer(item).data)


# Budgets and spending -------------------------------------------------------------------------


class BudgetSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    spent = serializers.DecimalField(
        source="spent_total", max_digits=18, decimal_places=2, read_only=True
    )
    remaining = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = Budget
        fields = [
            "id",
            "client",
            "client_name",
            "period",
            "allocated",
            "spent",
            "remaining",
            "note",
        ]
        read_only_fields = ["id", "client_name", "spent", "remaining"]


class BudgetViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Budgets with what is spent and what remains; the committee allocates with ``POST``
    (again for the same client and quarter changes the amount, never below what is spent)."""

    serializer_class = BudgetSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_budget", "governance.view_own_mandate")
    write_perms = {"create": "governance.add_budget"}
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["client", "period"]

    def get_queryset(self) -> QuerySet[Budget]:
        budgets = with_spent(Budget.objects.all()).order_by("-period", "client__name")
        if self.request.user.has_perm("governance.view_budget"):
            return budgets
        own = MandateAccount.objects.filter(mandate__kam=self.request.user).values("client_id")
        return budgets.filter(client_id__in=own)

    def create(self, request: Request) -> Response:
        data = BudgetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals():
            budget = budget_allocate(
                client=data.validated_data["client"],
                period=quarter_start(data.validated_data["period"]),
                allocated=data.validated_data["allocated"],
                note=data.validated_data.get("note", ""),
            )
        return Response(BudgetSerializer(self.get_queryset().get(pk=budget.pk)).data, status=201)


class SpendSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=SpendCategory.choices)

    class Meta:
        model = BudgetSpend
        fields = [
            "id",
            "budget",
            "amount",
            "category",
            "spent_on",
            "description",
            "exception",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "recorded_by", "recorded_at"]


class BudgetSpendViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Spending from budgets; a KAM records theirs with ``POST`` (checked against the
    mandate's threshold and what remains, 400 with the reason when refused)."""

    serializer_class = SpendSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_budgetspend", "governance.view_own_mandate")
    write_perms = {"create": "governance.add_budgetspend"}
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["budget", "category"]

    def get_queryset(self) -> QuerySet[BudgetSpend]:
        spending = BudgetSpend.objects.order_by("-spent_on", "-pk")
        if self.request.user.has_perm("governance.view_budgetspend"):
            return spending
        return spending.filter(recorded_by=self.request.user)

    def create(self, request: Request) -> Response:
        data = SpendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        with refusals():
            spend = budget_spend(
                kam=request.user,
                budget=fields["budget"],
                amount=fields["amount"],
                category=fields["category"],
                spent_on=fields["spent_on"],
                description=fields["description"],
                exception=fields.get("exception"),
            )
        return Response(SpendSerializer(spend).data, status=201)


# Department requests --------------------------------------------------------------------------


class DepartmentRequestSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="obligation.department", read_only=True)

    class Meta:
        model = DepartmentRequest
        fields = [
            "id",
            "obligation",
            "department",
            "client",
            "requested_by",
            "text",
            "created_at",
            "due_at",
            "fulfilled_at",
        ]
        read_only_fields = ["id", "department", "requested_by", "created_at", "due_at"]
        extra_kwargs = {"fulfilled_at": {"read_only": True}}


class InDepartmentWork(permissions.BasePermission):
    """Directors and the committee, KAMs, and the owners of obligations."""

    def has_permission(self, request: Request, view: object) -> bool:
        user = request.user
        return user.is_authenticated and (
            user.has_perm("governance.view_departmentrequest")
            or user.has_perm("governance.add_departmentrequest")
            or DepartmentObligation.objects.filter(owner=user).exists()
        )


class DepartmentRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests against department obligations: a KAM logs one for their account with
    ``POST``; the obligation's owner marks it done with ``POST {id}/fulfil/``."""

    serializer_class = DepartmentRequestSerializer
    permission_classes = [InDepartmentWork]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["obligation", "client"]

    def get_queryset(self) -> QuerySet[DepartmentRequest]:
        user = self.request.user
        requests = DepartmentRequest.objects.select_related("obligation").order_by(
            "-created_at", "-pk"
        )
        if user.has_perm("governance.view_departmentrequest"):
            return requests
        return requests.filter(Q(requested_by=user) | Q(obligation__owner=user))

    def create(self, request: Request) -> Response:
        if not request.user.has_perm("governance.add_departmentrequest"):
            raise exceptions.PermissionDenied()
        data = DepartmentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals():
            item = department_request(
                kam=request.user,
                obligation=data.validated_data["obligation"],
                client_id=data.validated_data["client"].pk,
                text=data.validated_data["text"],
            )
        return Response(DepartmentRequestSerializer(item).data, status=201)

    @extend_schema(request=None, responses=DepartmentRequestSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        try:
            item = department_fulfil(request=item, by=request.user)
        except PermissionError as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(DepartmentRequestSerializer(item).data)


# The playbook and incidents -------------------------------------------------------------------


class SituationTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SituationType
        fields = ["id", "name", "procedure", "owner", "response_hours", "is_active"]
        read_only_fields = fields


class SituationTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SituationTypeSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_situationtype",)
    queryset = SituationType.objects.order_by("name")


class IncidentUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentUpdate
        fields = ["author", "text", "created_at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    updates = IncidentUpdateSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "situation",
            "client",
            "declared_by",
            "owner",
            "description",
            "state",
            "declared_at",
            "respond_by",
            "taken_at",
            "closed_at",
            "resolution",
            "updates",
        ]
        read_only_fields = [
            "id",
            "declared_by",
            "owner",
            "state",
            "declared_at",
            "respond_by",
            "taken_at",
            "closed_at",
            "resolution",
            "updates",
        ]


class IncidentTextSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")


class MaySeeIncidents(permissions.BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return request.user.is_authenticated and may_see_incidents(request.user)


class IncidentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Incidents: a KAM declares one on their account with ``POST``; its owner (or the
    committee) acts with ``POST {id}/take/``, ``{id}/close/`` (``text`` is the resolution) and
    ``{id}/note/``; 409 when it moved meanwhile."""

    serializer_class = IncidentSerializer
    permission_classes = [MaySeeIncidents]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["state", "situation", "client"]

    def get_queryset(self) -> QuerySet[Incident]:
        return (
            incidents_visible_to(self.request.user)
            .prefetch_related("updates")
            .order_by("-declared_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        if not request.user.has_perm("governance.add_incident"):
            raise exceptions.PermissionDenied()
        data = IncidentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals():
            incident = incident_declare(
                kam=request.user,
                client_id=data.validated_data["client"].pk,
                situation=data.validated_data["situation"],
                description=data.validated_data["description"],
            )
        return Response(IncidentSerializer(incident).data, status=201)

    def _act(self, request: Request, step: object) -> Response:
        incident = self.get_object()
        data = IncidentTextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refusals():
            step(incident, data.validated_data["text"])
        return Response(IncidentSerializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=IncidentTextSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request,
            lambda incident, text: incident_take(incident=incident, by=request.user, text=text),
        )

    @extend_schema(request=IncidentTextSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        def step(incident: Incident, text: str) -> object:
            return incident_close(incident=incident, by=request.user, resolution=text)

        return self._act(request, step)

    @extend_schema(request=IncidentTextSerializer, responses=IncidentSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: str | None = None) -> Response:
        return self._act(
            request,
            lambda incident, text: incident_note(incident=incident, by=request.user, text=text),
        )


# The mandates themselves, and what they refer to --------------------------------------------

LIMIT_FIELDS_API = list(LIMIT_FIELDS.values())


class MandateAccountSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)

    class Meta:
        model = MandateAccount
        fields = ["client", "client_name", *LIMIT_FIELDS_API]
        read_only_fields = fields


class MandateTeamMemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = MandateTeamMember
        fields = ["user", "role"]
        read_only_fields = fields


class MandateSerializer(serializers.ModelSerializer):
    accounts = MandateAccountSerializer(many=True, read_only=True)
    team = MandateTeamMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Mandate
        fields = [
            "id",
            "kam",
            "title",
            "status",
            "valid_from",
            "valid_to",
            "adopted_at",
            "methods",
            *LIMIT_FIELDS_API,
            "accounts",
            "team",
        ]
        read_only_fields = fields


class MandateViewSet(viewsets.ReadOnlyModelViewSet):
    """Mandates with their limits, accounts (with overrides), team and relationship methods;
    a KAM sees their own versions only. Mandates change by the committee's vote."""

    serializer_class = MandateSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_mandate", "governance.view_own_mandate")
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["kam", "status"]

    def get_queryset(self) -> QuerySet[Mandate]:
        mandates = Mandate.objects.prefetch_related("accounts__client", "team", "methods").order_by(
            "kam_id", "-valid_from", "-pk"
        )
        if self.request.user.has_perm("governance.view_mandate"):
            return mandates
        return mandates.filter(kam=self.request.user)


class EscalationTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationTier
        fields = ["id", "order", "up_to_deal_value", "approver"]
        read_only_fields = fields


class EscalationTierViewSet(viewsets.ReadOnlyModelViewSet):
    """Who decides past a KAM's limits, by the deal's value."""

    serializer_class = EscalationTierSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_mandate", "governance.view_own_mandate")
    queryset = EscalationTier.objects.order_by("order")


class RelationshipMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = RelationshipMethod
        fields = ["id", "name", "description"]
        read_only_fields = fields


class RelationshipMethodViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue of relationship methods the committee keeps."""

    serializer_class = RelationshipMethodSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = ("governance.view_mandate", "governance.view_own_mandate")
    queryset = RelationshipMethod.objects.order_by("name")


class DepartmentObligationSerializer(serializers.ModelSerializer):
    class Meta:
        model = DepartmentObligation
        fields = ["id", "department", "title", "owner", "response_hours"]
        read_only_fields = fields


class DepartmentObligationViewSet(viewsets.ReadOnlyModelViewSet):
    """What each department owes the KAMs, who answers for it and how fast."""

    serializer_class = DepartmentObligationSerializer
    permission_classes = [InDepartmentWork]
    queryset = DepartmentObligation.objects.order_by("department", "title")
