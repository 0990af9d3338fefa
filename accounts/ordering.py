"""Ordering an API list by a field it does not offer is a 400 that names the fields it does,
on every list alike, rather than silently ignored; a list with a fixed order
(``ordering_fields = []``) refuses any. The schema offers exactly the orders a list takes.
Its own module: DRF imports it while its views module loads (``DEFAULT_FILTER_BACKENDS``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


def _is_column(model: type[Model], path: str) -> bool:
    """Whether ``path`` (``client__name``) reaches a column through forward relations only: the
    rows of a list ordered by it are the same rows, once each."""
    for step in path.split("__"):
        try:
            field = model._meta.get_field(step)
        except FieldDoesNotExist:
            return False
        if not field.concrete or field.many_to_many or field.one_to_many:
            return False
        model = field.related_model if field.is_relation else None
        if model is None and step != path.split("__")[-1]:
            return False
    return True


# Said when a list is asked to order by what it does not offer (``django-filter``'s orderings
# in ``accounts.filters`` say the same).
ORDERING_REFUSAL = gettext_noop("Cannot order by %(unknown)s; this list orders by %(valid)s.")


class KnownOrderingFilter(OrderingFilter):
    def get_default_valid_fields(
        self, queryset: QuerySet, view: Any, context: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """A list that names no ``ordering_fields`` orders by its serializer's fields that are
        columns: not by a computed one (``get_kind_display``) or a list of related rows."""
        return [
            (name, label)
            for name, label in super().get_default_valid_fields(queryset, view, context)
            if _is_column(queryset.model, name)
        ]

    def _offered(self, queryset: QuerySet, view: Any, request: Request | None) -> list[str]:
        return sorted(
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        )

    def get_ordering(self, request: Request, queryset: QuerySet, view: object) -> list[str] | None:
        asked = request.query_params.get(self.ordering_param)
        if asked is not None and not asked.strip(", "):
            raise ValidationError(
                {self.ordering_param: [_("Give a value, or leave the parameter out.")]}
            )
        if asked:
            valid = set(self._offered(queryset, view, request))
            terms = [term.strip() for term in asked.split(",") if term.strip()]
            unknown = [term for term in terms if term.lstrip("-") not in valid]
            if unknown:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            _(ORDERING_REFUSAL)
                            % {
                                "unknown": ", ".join(unknown),
                                "valid": ", ".join(sorted(valid)) or _("nothing"),
                            }
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """``ordering``: a comma-separated list of the fields offered, each maybe with ``-``
        (descending); no parameter at all on a list with a fixed order."""
        serializer = view.get_serializer_class()
        queryset = serializer.Meta.model._default_manager.none()
        offered = self._offered(queryset, view, getattr(view, "request", None))
        if not offered:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": str(self.ordering_description),
                "schema": {
                    "type": "array",
                    # An empty value is refused, not read as no order: leave the parameter out.
                    "minItems": 1,
                    "items": {"type": "string", "enum": [*offered, *(f"-{f}" for f in offered)]},
                },
                "style": "form",
                "explode": False,
            }
        ]
