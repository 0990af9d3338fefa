"""The REST API router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api import ClientFigureViewSet, ClientNeedViewSet, ClientViewSet

router = DefaultRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("needs", ClientNeedViewSet, basename="need")
router.register("figures", ClientFigureViewSet, basename="figure")
