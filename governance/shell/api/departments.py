"""REST endpoints of what departments owe the KAMs: obligations (read-only) and requests."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import (
    DepartmentObligation,
    DepartmentRequest,
)
from governance.permissions import ADD_DEPARTMENT_REQUEST, VIEW_DEPARTMENT_REQUEST
from governance.shell.departments import (
    department_fulfil,
    department_request,
    department_requests_visible_to,
)
from governance.shell.filters import DepartmentRequestFilter

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
            user.has_perm(VIEW_DEPARTMENT_REQUEST)
            or user.has_perm(ADD_DEPARTMENT_REQUEST)
            or DepartmentObligation.objects.filter(owner=user).exists()
        )


class DepartmentRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests against department obligations: a KAM logs one for their account with
    ``POST``; the obligation's owner marks it done with ``POST {id}/fulfil/``."""

    serializer_class = DepartmentRequestSerializer
    permission_classes = [InDepartmentWork]
    filterset_class = DepartmentRequestFilter

    def get_queryset(self) -> QuerySet[DepartmentRequest]:
        return (
            department_requests_visible_to(self.request.user)
            .select_related("obligation")
            .order_by("-created_at", "-pk")
        )

    def create(self, request: Request) -> Response:
        if not request.user.has_perm(ADD_DEPARTMENT_REQUEST):
            raise exceptions.PermissionDenied()
        data = DepartmentRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
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
        item = department_fulfil(request=item, by=request.user)
        return Response(DepartmentRequestSerializer(item).data)


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
