"""REST endpoints of mandates: a KAM's own mandate versions with accounts, overrides and team;
escalation tiers and relationship methods, read-only; and ``POST /api/mandate-check/``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import ReadsOrOwn
from governance.models import (
    LIMIT_FIELDS,
    EscalationTier,
    Mandate,
    MandateAccount,
    MandateTeamMember,
    RelationshipMethod,
)
from governance.permissions import VIEW_MANDATE, VIEW_OWN_MANDATE
from governance.shell.exception_requests import RESPONSE_TIME, escalation_ladder, ladder_from
from governance.shell.filters import MandateFilter
from governance.shell.mandates import mandate_check, mandates_visible_to


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
    budget_spend = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False
    )


class BreachSerializer(serializers.Serializer):
    limit = serializers.CharField()
    allowed = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)
    asked = serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=False)


class LadderPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    name = serializers.CharField(source="user")
    away_until = serializers.DateField(allow_null=True)
    deputy_for = serializers.CharField(allow_null=True)


class LadderStepSerializer(serializers.Serializer):
    approver = serializers.CharField()
    label = serializers.CharField()
    people = LadderPersonSerializer(many=True)
    answer_within_days = serializers.IntegerField()


class MandateCheckResultSerializer(serializers.Serializer):
    within_mandate = serializers.BooleanField()
    breaches = BreachSerializer(many=True)
    escalate_to = serializers.CharField(allow_null=True)
    escalation = LadderStepSerializer(
        many=True,
        help_text=_(
            "Past the mandate: who decides, by name, then who the request goes to if it is "
            "left unanswered."
        ),
    )
    answer_due = serializers.DateTimeField(
        allow_null=True,
        help_text=_("When a request filed now must be answered at the first step."),
    )


class MandateCheckView(APIView):
    """Whether a deal stays inside the caller's mandate for one of their accounts (any subset
    of discount, deal value, payment term and credit); 404 for an account outside it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=MandateCheckSerializer, responses=MandateCheckResultSerializer)
    def post(self, request: Request) -> Response:
        data = MandateCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        asked = {k: Decimal(v) for k, v in data.validated_data.items() if k != "client"}
        result = mandate_check(
            kam=request.user, client_id=data.validated_data["client"], asked=asked
        )
        steps = (
            [] if result.within_mandate else ladder_from(escalation_ladder(), result.escalate_to)
        )
        answer_due = None if result.within_mandate else timezone.now() + RESPONSE_TIME
        return Response(
            MandateCheckResultSerializer(
                {
                    "within_mandate": result.within_mandate,
                    "breaches": result.breaches,
                    "escalate_to": result.escalate_to,
                    "escalation": steps,
                    "answer_due": answer_due,
                }
            ).data
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
    read_perms = (VIEW_MANDATE, VIEW_OWN_MANDATE)
    filterset_class = MandateFilter

    def get_queryset(self) -> QuerySet[Mandate]:
        return (
            mandates_visible_to(self.request.user)
            .prefetch_related("accounts__client", "team", "methods")
            .order_by("kam_id", "-valid_from", "-pk")
        )


class EscalationTierSerializer(serializers.ModelSerializer):
    class Meta:
        model = EscalationTier
        fields = ["id", "order", "up_to_deal_value", "approver"]
        read_only_fields = fields


class EscalationTierViewSet(viewsets.ReadOnlyModelViewSet):
    """Who decides past a KAM's limits, by the deal's value."""

    serializer_class = EscalationTierSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_MANDATE, VIEW_OWN_MANDATE)
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
    read_perms = (VIEW_MANDATE, VIEW_OWN_MANDATE)
    queryset = RelationshipMethod.objects.order_by("name")
