"""Ordering an API list by a field it does not offer is a 400 that names the fields it does,
on every list alike, rather than silently ignored. Its own module: DRF imports it while its
views module loads (``DEFAULT_FILTER_BACKENDS``)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class KnownOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet, view: object) -> list[str] | None:
        asked = request.query_params.get(self.ordering_param)
        if asked:
            valid = {
                name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
            }
            terms = [term.strip() for term in asked.split(",") if term.strip()]
            unknown = [term for term in terms if term.lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _("Cannot order by %(unknown)s; this list orders by %(valid)s.")
                            % {
                                "unknown": ", ".join(unknown),
                                "valid": ", ".join(sorted(valid)) or _("nothing"),
                            }
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)
