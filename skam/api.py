"""The REST API router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api import ClientFigureViewSet, ClientNeedViewSet, ClientViewSet
from criteria.api import (
    CoverageViewSet,
    EvaluationRunViewSet,
    EvaluationViewSet,
    FitRatingViewSet,
    ReviewItemViewSet,
    RulerViewSet,
    USPViewSet,
)
from governance.api import DecisionViewSet, ProposalViewSet

router = DefaultRouter()
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
