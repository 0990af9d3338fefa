"""The REST API router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api import ClientFigureViewSet, ClientNeedViewSet, ClientViewSet
from accounts.tokens import MyTokenViewSet
from criteria.api import (
    CoverageViewSet,
    EvaluationRunViewSet,
    EvaluationViewSet,
    FitRatingViewSet,
    ReviewItemViewSet,
    RulerViewSet,
    USPViewSet,
)
from governance.committee.api import DecisionViewSet, ProposalViewSet
from governance.kpis.api import KpiEntryViewSet, KpiSnapshotViewSet, KpiTargetViewSet, KpiViewSet
from governance.record.api import RecordEntryViewSet
from governance.shell.api.budgets import BudgetSpendViewSet, BudgetViewSet
from governance.shell.api.departments import DepartmentObligationViewSet, DepartmentRequestViewSet
from governance.shell.api.exception_requests import ExceptionRequestViewSet
from governance.shell.api.incidents import IncidentViewSet, SituationTypeViewSet
from governance.shell.api.mandates import (
    EscalationTierViewSet,
    MandateViewSet,
    RelationshipMethodViewSet,
)

router = DefaultRouter()
router.register("auth/tokens", MyTokenViewSet, basename="my-token")
router.register("clients", ClientViewSet, basename="client")
router.register("needs", ClientNeedViewSet, basename="need")
router.register("figures", ClientFigureViewSet, basename="figure")
router.register("usps", USPViewSet, basename="usp")
router.register("coverages", CoverageViewSet, basename="coverage")
router.register("rulers", RulerViewSet, basename="ruler")
router.register("evaluations", EvaluationViewSet, basename="evaluation")
router.register("runs", EvaluationRunViewSet, basename="run")
router.register("review-items", ReviewItemViewSet, basename="review-item")
router.register("fit-ratings", FitRatingViewSet, basename="fit-rating")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("mandates", MandateViewSet, basename="mandate")
router.register("escalation-tiers", EscalationTierViewSet, basename="escalation-tier")
router.register("relationship-methods", RelationshipMethodViewSet, basename="relationship-method")
router.register("department-obligations", DepartmentObligationViewSet, basename="obligation")
router.register("exception-requests", ExceptionRequestViewSet, basename="exception-request")
router.register("budgets", BudgetViewSet, basename="budget")
router.register("spending", BudgetSpendViewSet, basename="spending")
router.register("department-requests", DepartmentRequestViewSet, basename="department-request")
router.register("situations", SituationTypeViewSet, basename="situation")
router.register("incidents", IncidentViewSet, basename="incident")
router.register("kpis", KpiViewSet, basename="kpi")
router.register("kpi-targets", KpiTargetViewSet, basename="kpi-target")
router.register("kpi-entries", KpiEntryViewSet, basename="kpi-entry")
router.register("kpi-snapshots", KpiSnapshotViewSet, basename="kpi-snapshot")
router.register("record", RecordEntryViewSet, basename="record-entry")
