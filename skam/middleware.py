"""Headers and limits every response and request gets, whatever app answers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

# The browser features SKAM never uses, switched off for the page and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def _too_large(request: HttpRequest) -> HttpResponse:
    message = _("The request is larger than SKAM accepts.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    page = loader.get_template("errors/413.html").render({"message": message})
    return HttpResponse(page, status=413)


class RequestLimitsMiddleware:
    """A 413 for a request whose declared body is past the limit, before anything reads it: a
    file upload (multipart) up to ``SKAM_REQUEST_MAX_BYTES``, any other body up to Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``. (Without a declared length, Django's own limits answer
    400 once the body is read.) Every response also gets the Permissions-Policy header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        is_upload = request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
        limit = (
            settings.SKAM_REQUEST_MAX_BYTES if is_upload else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        response = _too_large(request) if declared > limit else self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
