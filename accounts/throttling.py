"""Writes through the API are throttled per user (or address, signed out); reads are not.
Its own module: DRF imports it while its views module loads (``DEFAULT_THROTTLE_CLASSES``)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import UserRateThrottle


class WriteThrottle(UserRateThrottle):
    """At most ``SKAM_API_WRITE_RATE`` writes; read on every request, so a deployment (or a
    test) changes it in settings."""

    scope = "writes"

    def get_rate(self) -> str:
        return settings.SKAM_API_WRITE_RATE

    def allow_request(self, request: object, view: object) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
