"""REST endpoints of the committee. The contract integrators rely on:

* ``GET /api/proposals/?state=open``;
* ``GET /api/proposals/{id}/`` with ``state`` and ``tally`` as ``{"for": n, "against": n,
  "abstain": n}``;
* ``POST /api/proposals/{id}/vote/`` with ``{"choice": "for"|"against"|"abstain",
  "comment": "…"}`` casts or changes the caller's vote: 403 for a non-member or a recused
  member, 409 once the vote has closed.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import RolePermissions
from governance.mandates import NotInMandate, mandate_check
from governance.models import Decision, Proposal, VoteChoice
from governance.services import (
    NotEntitled,
    ProposalNotOpen,
    proposals_with_tally,
    tally_of,
    vote_cast,
)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class ProposalSerializer(serializers.ModelSerializer):
    tally = serializers.SerializerMethodField()
    client_name = serializers.CharField(source="client.name", read_only=True, default=None)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "type",
            "title",
            "rationale",
            "client",
            "client_name",
            "ruler",
            "review_date",
            "state",
            "opened_at",
            "deadline",
            "closed_at",
            "quorum_percent",
            "majority",
            "abstentions_count",
            "tally",
        ]
        read_only_fields = fields

    @extend_schema(
        responses=inline_serializer(
            "Tally",
            {
                "for": serializers.IntegerField(),
                "against": serializers.IntegerField(),
                "abstain": serializers.IntegerField(),
            },
        )
    )
    def get_tally(self, proposal: Proposal) -> dict[str, int]:
        return tally_of(proposal).as_dict()


class ProposalDetailSerializer(ProposalSerializer):
    class Meta(ProposalSerializer.Meta):
        fields = [*ProposalSerializer.Meta.fields, "evidence", "entitled"]
        read_only_fields = fields


class VoteSerializer(serializers.Serializer):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ProposalViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [RolePermissions]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["state", "type", "client"]

    def get_queryset(self) -> QuerySet[Proposal]:
        # The tally's counts come annotated: a list costs no query per proposal.
        return proposals_with_tally(Proposal.objects.select_related("client")).order_by("-pk")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ProposalDetailSerializer if self.action == "retrieve" else ProposalSerializer

    @extend_schema(request=VoteSerializer, responses=ProposalDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[RolePermissions])
    def vote(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        data = VoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            vote_cast(
                proposal=proposal,
                member=request.user,
                choice=data.validated_data["choice"],
                comment=data.validated_data["comment"],
            )
        except NotEntitled as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except ProposalNotOpen as exc:
            raise Conflict(str(exc)) from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        proposal = self.get_queryset().get(pk=proposal.pk)  # fresh state and counts
        return Response(ProposalDetailSerializer(proposal).data)


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Decision
        fields = [
            "id",
            "proposal",
            "client",
            "summary",
            "key_status",
            "effective_date",
            "review_date",
            "superseded_by",
        ]
        read_only_fields = fields


class DecisionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DecisionSerializer
    permission_classes = [RolePermissions]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["client"]
    queryset = Decision.objects.order_by("-effective_date", "-pk")


class MandateCheckSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False
    )
    deal_value = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )
    payment_term_days = serializers.IntegerField(min_value=0, required=False)
    credit = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False)


class BreachSerializer(serializers.Serializer):
    limit = serializers.CharField()
    allowed = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)
    asked = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)


class MandateCheckResultSerializer(serializers.Serializer):
    within_mandate = serializers.BooleanField()
    breaches = BreachSerializer(many=True)
    escalate_to = serializers.CharField(allow_null=True)


class MandateCheckView(APIView):
    """Whether a deal stays inside the caller's mandate for one of their accounts (any subset
    of discount, deal value, payment term and credit); 404 for an account outside it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=MandateCheckSerializer, responses=MandateCheckResultSerializer)
    def post(self, request: Request) -> Response:
        data = MandateCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = {k: Decimal(v) for k, v in data.validated_data.items() if k != "client"}
        try:
            result = mandate_check(
                kam=request.user, client_id=data.validated_data["client"], asked=asked
            )
        except NotInMandate as exc:
            raise exceptions.NotFound(str(exc)) from exc
        return Response(MandateCheckResultSerializer(result).data)
