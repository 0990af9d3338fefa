"""What every list page of governance does with its filter set (as the register's
``accounts.filters.ClientFilter`` does): one filter set shared by the page and the API list.

A page and the API read the same parameters with the same meaning. They differ in two ways
only: a page opens on a tab of its own (``page_data``), where the API lists everything; and a
value a filter cannot read is answered 400 by the API, while a page leaves that filter out and
lists the rest, as it always has — except an object that does not exist (``?client=0``), which
has nothing to show rather than everything (``ListFilterSet``). A leaf: it imports no context.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

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

    # Read by ``accounts.left_out.filters_left_out``, which tells the reader why.
    missing_lists_nothing = True

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if any(
            isinstance(self.filters[name], django_filters.ModelChoiceFilter)
            for name in self.errors
            if name in self.filters
        ):
            return queryset.none()
        return super().filter_queryset(queryset)


class StateFilter(django_filters.ChoiceFilter):
    """A state among ``states``, or ``all`` (every state: a list page's last tab)."""

    def __init__(self, *, states: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(choices=[*states, (ANY_STATE, _("All"))], **kwargs)

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        if value == ANY_STATE:
            return queryset
        return super().filter(queryset, value)
