"""What a list page leaves out of what its address asks, and tells the reader.

A list page reads its filters, order and page from the query string. A value it cannot read (an
order it does not offer, a date that is none, a number past any id, a choice it does not know,
a page that is not there) is left out and the rest listed, with status 200, as a form submitted
with an empty field expects; the API answers the same value 400 (``accounts.filtering``). The
page says what it left out and why (``left_out`` in its context, shown by ``base.html`` above
the page's content), so that nobody takes a list for the one they asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import django_filters
from django import forms
from django.core.paginator import Page, Paginator
from django.http import QueryDict
from django.utils.translation import gettext as _

# A value is shown up to this many characters: the address may hold anything.
SHOWN = 40
# What a yes-or-no filter reads (its select's values, and the API's).
BOOLEANS = ("true", "false", "True", "False", "1", "0")


@dataclass(frozen=True)
class LeftOut:
    """A parameter of the address left out: its name, the value asked, and why."""

    parameter: str
    value: str
    reason: str

    @property
    def shown(self) -> str:
        return self.value if len(self.value) <= SHOWN else self.value[: SHOWN - 1] + "…"


def form_left_out(form: forms.Form, data: QueryDict) -> list[LeftOut]:
    """Each parameter of ``data`` the bound form refused, with the form's first reason (in the
    reader's language, as the form says it)."""
    if not form.is_bound or form.is_valid():
        return []
    return [
        LeftOut(parameter=name, value=",".join(data.getlist(name)), reason=str(errors[0]))
        for name, errors in form.errors.items()
        if name in data
    ]


def filters_left_out(filterset: django_filters.FilterSet) -> list[LeftOut]:
    """What a django-filter filter set left out of its data (it filters by the rest). A set
    that lists nothing for an object that is not there (``missing_lists_nothing``, the list
    pages of governance) says so of such a reference instead."""
    left_out = form_left_out(filterset.form, filterset.data)
    # django-filter reads a yes-or-no it does not know as "any", without a word.
    for name, filter_ in filterset.filters.items():
        raw = filterset.data.get(name)
        if isinstance(filter_, django_filters.BooleanFilter) and raw and raw not in BOOLEANS:
            reason = _("“%(value)s” is neither true nor false.") % {"value": raw[:SHOWN]}
            left_out.append(LeftOut(parameter=name, value=raw, reason=reason))
    if not getattr(filterset, "missing_lists_nothing", False):
        return left_out
    return [
        replace(item, reason=_("There is none such among those you may see: nothing is listed."))
        if isinstance(filterset.filters.get(item.parameter), django_filters.ModelChoiceFilter)
        else item
        for item in left_out
    ]


def page_of(paginator: Paginator, raw: str | None) -> tuple[Page, list[LeftOut]]:
    """The page asked for (Django's ``get_page``: the first for what is not a number, the last
    for one past the end), and the page parameter left out when it is not the page shown."""
    page = paginator.get_page(raw)
    if not raw:
        return page, []
    try:
        number = int(raw)
    except ValueError:
        reason = _("A page is a whole number: the first page is shown.")
    else:
        if number == page.number:
            return page, []
        reason = _("There is no such page: page %(number)s is shown.") % {"number": page.number}
    return page, [LeftOut(parameter="page", value=raw, reason=reason)]
