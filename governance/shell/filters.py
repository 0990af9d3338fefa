"""The shell's list filters, one filter set per list, shared by its page and its API list (as the
register's ``accounts.filters.ClientFilter`` is), and what every list page does with one.

A page and the API read the same parameters with the same meaning. They differ in two ways
only: a page opens on a tab of its own (``page_data``), where the API lists everything; and a
value a filter cannot read is answered 400 by the API, while a page leaves that filter out and
lists the rest, as it always has — except an object that does not exist (``?client=0``), which
has nothing to show rather than everything (``ListFilterSet``).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from governance.models import (
    Budget,
    BudgetSpend,
    DepartmentRequest,
    ExceptionRequest,
    Incident,
    IncidentState,
    Mandate,
)

# The value of a state filter that shows every state: a tab of the list pages.
ANY_STATE = "all"


def page_data(request: HttpRequest, **defaults: str) -> QueryDict:
    """The page's query string, with the tab it opens on for each filter it does not name."""
    data = request.GET.copy()
    for name, value in defaults.items():
        data.setdefault(name, value)
    return data


def page_query(data: QueryDict) -> str:
    """What the pagination links carry: every filter of the page shown, not its number."""
    query = data.copy()
    query.pop("page", None)
    return query.urlencode()


class ListFilterSet(django_filters.FilterSet):
    """A filter set for a page and an API list. On a page, a reference to an object that does
    not exist (a client, a situation…) lists nothing: leaving that filter out, as django-filter
    does with a value it cannot read, would list every other object's rows instead."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if any(
            isinstance(self.filters[name], django_filters.ModelChoiceFilter)
            for name in self.errors
            if name in self.filters
        ):
            return queryset.none()
        return super().filter_queryset(queryset)


class ExceptionRequestFilter(ListFilterSet):
    """Exception requests by ``state``, ``approver`` and ``client``. The page opens on those
    waiting for a decision."""

    class Meta:
        model = ExceptionRequest
        fields = ["state", "approver", "client"]


class IncidentStateFilter(django_filters.ChoiceFilter):
    """An incident's state, or one of the list page's tabs: ``active`` (not closed yet) and
    ``all``."""

    ACTIVE = "active"

    def __init__(self, **kwargs: object) -> None:
        choices = [
            (self.ACTIVE, _("Open")),
            *IncidentState.choices,
            (ANY_STATE, _("All")),
        ]
        super().__init__(choices=choices, **kwargs)

    def filter(self, queryset: QuerySet[Incident], value: str) -> QuerySet[Incident]:
        if value == self.ACTIVE:
            return queryset.exclude(state=IncidentState.CLOSED)
        if value == ANY_STATE:
            return queryset
        return super().filter(queryset, value)


class IncidentFilter(ListFilterSet):
    """Incidents by ``state`` (or tab), ``situation`` and ``client``. The page opens on those
    not closed yet."""

    state = IncidentStateFilter(label=_("State"))

    class Meta:
        model = Incident
        fields = ["state", "situation", "client"]


class BudgetFilter(ListFilterSet):
    """Budgets by ``client`` and ``period`` (the quarter's first day)."""

    class Meta:
        model = Budget
        fields = ["client", "period"]


class SpendFilter(ListFilterSet):
    """Spending by ``budget`` and ``category``."""

    class Meta:
        model = BudgetSpend
        fields = ["budget", "category"]


class MandateFilter(ListFilterSet):
    """Mandates by ``kam`` and ``status``."""

    class Meta:
        model = Mandate
        fields = ["kam", "status"]


class DepartmentRequestFilter(ListFilterSet):
    """Department requests by ``obligation`` and ``client``."""

    class Meta:
        model = DepartmentRequest
        fields = ["obligation", "client"]
