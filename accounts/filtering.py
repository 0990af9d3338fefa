"""The API's filters, strict: a filter value the list cannot read is a 400 that names the
parameter, never silently ignored (django-filter leaves out an empty value, and reads a boolean
it does not know as "any"); a well-formed reference to a row that is not there for this person
(an id, or a value that occurs, such as an industry) is a 404 that names it. The list pages
share the filter sets but not this backend: a page leaves out what it cannot read, as a form
submitted with empty fields expects.
Its own module: DRF imports it while its views module loads (``DEFAULT_FILTER_BACKENDS``)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

# The ids a row may have (``BigAutoField``): a reference outside them is malformed (400), one
# inside that names no row this person sees is missing (404).
MAX_ID = 2**63 - 1

# What a boolean filter reads: what the schema says (``type: boolean``), as a query string
# writes it.
BOOLEANS = ("true", "false")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row's id, given as an integer (``1.5``, ``1e3`` or ``0`` is refused)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictFilterExtension(DjangoFilterExtension):
    """The schema says what the backend reads: an id from 1 (``?client=``), and a value, not
    an empty one, where the filter needs one."""

    target_class = "accounts.filtering.StrictFilterBackend"
    priority = 1

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict[str, Any]]:
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if isinstance(filter_field, django_filters.ModelChoiceFilter):
                if schema.get("type") == "integer":
                    schema.update(minimum=1, maximum=MAX_ID)
            elif isinstance(filter_field, django_filters.OrderingFilter):
                schema["minItems"] = 1
            elif not _takes_empty(filter_field) and schema.get("type") == "string":
                schema.setdefault("minLength", 1)
        return parameters


def _takes_empty(filter_: django_filters.Filter) -> bool:
    """Whether an empty value means something to this filter: free text (a search for "")."""
    return isinstance(filter_, django_filters.CharFilter) and not isinstance(
        filter_, django_filters.ChoiceFilter
    )


def _names_a_row(filter_: django_filters.Filter | None, raw: str) -> bool:
    """Whether ``raw`` is well formed for ``filter_`` and names something that may or may not
    be there: an id, or a value among those that occur (an industry, a table), which the
    schema cannot list."""
    if isinstance(filter_, django_filters.ModelChoiceFilter):
        try:
            return 1 <= int(raw) <= MAX_ID
        except ValueError:
            return False
    if isinstance(filter_, django_filters.ChoiceFilter):
        choices = filter_.extra.get("choices")
        return raw != "" and (callable(choices) or not choices)
    return False


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            _refuse_unreadable(request, filterset)
        return filterset

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            _refuse_missing_rows(request, filterset)
            raise ValidationError(filterset.errors)
        return filterset.qs


def _refuse_unreadable(request: Request, filterset: django_filters.FilterSet) -> None:
    """400 for an empty value where the filter needs one, and a boolean neither true nor false."""
    errors: dict[str, list[str]] = {}
    for name, filter_ in filterset.filters.items():
        for raw in request.query_params.getlist(name):
            if raw == "" and not _takes_empty(filter_):
                errors[name] = [_("Give a value, or leave the parameter out.")]
            elif isinstance(filter_, django_filters.BooleanFilter) and raw not in BOOLEANS:
                errors[name] = [_("“%(value)s” is neither true nor false.") % {"value": raw[:40]}]
    if errors:
        raise ValidationError(errors)


def _refuse_missing_rows(request: Request, filterset: django_filters.FilterSet) -> None:
    """404 when every refused value is a well-formed id of a row this person cannot see."""
    errors = filterset.form.errors.as_data()
    missing = [
        name
        for name, refusals in errors.items()
        if all(refusal.code == "invalid_choice" for refusal in refusals)
        and _names_a_row(filterset.filters.get(name), request.query_params.get(name, ""))
    ]
    if missing and len(missing) == len(errors):
        raise NotFound(
            _("No %(parameter)s %(value)s among those you may see.")
            % {
                "parameter": missing[0],
                "value": request.query_params.get(missing[0]),
            }
        )
