"""REST endpoints of budgets and spending: the committee allocates, a KAM spends from their own
key clients' budgets within the mandate.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api import ReadsOrOwn
from accounts.money import CurrencyField
from accounts.periods import quarter_start
from governance.models import (
    Budget,
    BudgetSpend,
    SpendCategory,
)
from governance.permissions import (
    ADD_BUDGET,
    ADD_BUDGET_SPEND,
    VIEW_BUDGET,
    VIEW_BUDGET_SPEND,
    VIEW_OWN_MANDATE,
)
from governance.shell.budgets import (
    budget_allocate,
    budget_spend,
    budgets_visible_to,
    spending_visible_to,
)
from governance.shell.filters import BudgetFilter, SpendFilter

# Budgets and spending -------------------------------------------------------------------------


class BudgetSerializer(serializers.ModelSerializer):
    client_name = serializers.CharField(source="client.name", read_only=True)
    spent = serializers.DecimalField(
        source="spent_total", max_digits=18, decimal_places=2, read_only=True
    )
    remaining = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    currency = CurrencyField(amounts="allocated, spent and remaining")

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
            "currency",
            "note",
        ]
        read_only_fields = ["id", "client_name", "spent", "remaining"]


class BudgetViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Budgets with what is spent and what remains; the committee allocates with ``POST``
    (again for the same client and quarter changes the amount, never below what is spent)."""

    serializer_class = BudgetSerializer
    permission_classes = [ReadsOrOwn]
    read_perms = (VIEW_BUDGET, VIEW_OWN_MANDATE)
    write_perms = {"create": ADD_BUDGET}
    filterset_class = BudgetFilter

    def get_queryset(self) -> QuerySet[Budget]:
        return (
            budgets_visible_to(self.request.user).with_spent().order_by("-period", "client__name")
        )

    def create(self, request: Request) -> Response:
        data = BudgetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        budget = budget_allocate(
            client=data.validated_data["client"],
            period=quarter_start(data.validated_data["period"]),
            allocated=data.validated_data["allocated"],
            note=data.validated_data.get("note", ""),
            by=request.user,
        )
        return Response(BudgetSerializer(self.get_queryset().get(pk=budget.pk)).data, status=201)


class SpendSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=SpendCategory.choices)

    currency = CurrencyField(amounts="amount")

    class Meta:
        model = BudgetSpend
        fields = [
            "id",
            "budget",
            "amount",
            "currency",
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
    read_perms = (VIEW_BUDGET_SPEND, VIEW_OWN_MANDATE)
    write_perms = {"create": ADD_BUDGET_SPEND}
    filterset_class = SpendFilter

    def get_queryset(self) -> QuerySet[BudgetSpend]:
        return spending_visible_to(self.request.user).order_by("-spent_on", "-pk")

    def create(self, request: Request) -> Response:
        data = SpendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
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
