"""REST endpoints of exception requests: a KAM files and withdraws their own, the approvers of
the request's tier decide, through the same services as the pages.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.fields import empty
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import ReadsOrOwn
from accounts.money import CurrencyField
from governance.models import (
    ExceptionRequest,
)
from governance.permissions import ADD_EXCEPTION_REQUEST, VIEW_EXCEPTION_REQUEST, VIEW_OWN_MANDATE
from governance.shell.api.mandates import MandateCheckSerializer
from governance.shell.exception_requests import (
    exception_decide,
    exception_file,
    exception_requests_visible_to,
    exception_withdraw,
)
from governance.shell.filters import ExceptionRequestFilter

# Exception requests ---------------------------------------------------------------------------


class ExceptionRequestSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.__str__", read_only=True)

    currency = CurrencyField(amounts="the amounts asked and used_amount")

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
            "deal",
            "approver",
            "state",
            "respond_by",
            "decided_by",
            "decided_in",
            "decided_at",
            "decision_comment",
            "created_at",
            "used_amount",
            "currency",
            "used_at",
        ]
        read_only_fields = fields


class ExceptionFileSerializer(MandateCheckSerializer):
    justification = serializers.CharField()
    deal = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class AnswerField(serializers.BooleanField):
    """A yes or no that must be given. DRF's BooleanField reads an absent value in form data as
    false (an unticked checkbox), which here would reject the request."""

    default_empty_html = empty


class ExceptionDecideSerializer(serializers.Serializer):
    approve = AnswerField()
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ExceptionRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """``POST`` files a request for a deal past the caller's mandate;
    ``POST {id}/decide/`` with ``{"approve": bool, "comment": ""}`` decides it (the tier's
    approver or their deputy; 409 once decided; 403 at the committee's tier, which a
    proposal's vote decides: ``decided_in`` names it); ``POST {id}/withdraw/`` withdraws
    one's own (and the proposal before the committee to decide it, if any)."""

    serializer_class = ExceptionRequestSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_EXCEPTION_REQUEST, VIEW_OWN_MANDATE)
    write_perms = {
        "create": ADD_EXCEPTION_REQUEST,
        "withdraw": ADD_EXCEPTION_REQUEST,
    }
    filterset_class = ExceptionRequestFilter

    def get_queryset(self) -> QuerySet[ExceptionRequest]:
        return (
            exception_requests_visible_to(self.request.user)
            .select_related("client", "requested_by")
            .order_by("-created_at", "-pk")
        )

    @extend_schema(request=ExceptionFileSerializer, responses=ExceptionRequestSerializer)
    def create(self, request: Request) -> Response:
        data = ExceptionFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = {
            k: Decimal(v)
            for k, v in data.validated_data.items()
            if k not in ("client", "justification", "deal")
        }
        item = exception_file(
            kam=request.user,
            client_id=data.validated_data["client"],
            asked=asked,
            justification=data.validated_data["justification"],
            deal=data.validated_data["deal"],
        )
        return Response(ExceptionRequestSerializer(item).data, status=201)

    @extend_schema(request=ExceptionDecideSerializer, responses=ExceptionRequestSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        item = self.get_object()
        data = ExceptionDecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
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
        item = exception_withdraw(request=item, by=request.user)
        return Response(ExceptionRequestSerializer(item).data)
