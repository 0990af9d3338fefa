"""The shell's list filters, one filter set per list, shared by its page and its API list
(``governance.lists`` says what a page does with one)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from governance.lists import ListFilterSet, StateFilter
from governance.models import (
    Budget,
    BudgetSpend,
    DepartmentRequest,
    ExceptionRequest,
    Incident,
    IncidentState,
    Mandate,
)


class ExceptionRequestFilter(ListFilterSet):
    """Exception requests by ``state``, ``approver`` and ``client``. The page opens on those
    waiting for a decision."""

    class Meta:
        model = ExceptionRequest
        fields = ["state", "approver", "client"]


class IncidentStateFilter(StateFilter):
    """An incident's state, or one of the list page's tabs: ``active`` (not closed yet) and
    ``all``."""

    ACTIVE = "active"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(states=[(self.ACTIVE, _("Open")), *IncidentState.choices], **kwargs)

    def filter(self, queryset: QuerySet[Incident], value: str) -> QuerySet[Incident]:
        if value == self.ACTIVE:
            return queryset.exclude(state=IncidentState.CLOSED)
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
