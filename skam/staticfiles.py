"""What ``collectstatic`` gathers from the installed apps."""

from collections.abc import Iterator

from django.contrib.staticfiles import finders
from django.core.files.storage import Storage

# drf-spectacular-sidecar ships ReDoc (5 MB with its source map) beside the Swagger UI that
# /api/docs/ uses; no page of ours serves it.
NOT_SERVED = ["drf_spectacular_sidecar/redoc/*"]


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    def list(self, ignore_patterns: list[str] | None) -> Iterator[tuple[str, Storage]]:
        return super().list([*(ignore_patterns or []), *NOT_SERVED])
