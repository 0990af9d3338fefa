"""One filter set for the client register, shared by the list page and the API."""

from __future__ import annotations

import functools
from collections.abc import Callable

import django_filters
from django.db.models import QuerySet
from django.forms.utils import pretty_name
from django.http import HttpRequest
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.choices import filter_choices_offered
from accounts.models import Client, ClientFigure, ClientNeed, Segment, owner_name_sort_key
from accounts.ordering import ORDERING_REFUSAL
from accounts.search import clients_search
from accounts.selectors import clients_visible_to, kams
from accounts.widgets import QuickSelect


def _unknown_ordering(offered: list[str]) -> str:
    """The refusal of an order a filter set does not offer, naming those it does, in the
    reader's language; ``%(value)s`` is left for the form to fill with the order asked."""
    return gettext(ORDERING_REFUSAL) % {"unknown": "%(value)s", "valid": ", ".join(offered)}


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's, with "(descending)" said in the reader's language: django-filter
    formats its own label once, at import, in whatever language is active then. An order it
    does not offer is refused naming those it does, as every API list refuses one
    (``accounts.ordering``), rather than with django-filter's "Select a valid choice"."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        offered = sorted(
            str(value) for value, _label in self.extra["choices"] if not value.startswith("-")
        )
        self.extra.setdefault("error_messages", {})["invalid_choice"] = lazy(
            _unknown_ordering, str
        )(offered)

    def build_choices(
        self, fields: dict[str, str], labels: dict[str, object]
    ) -> list[tuple[str, object]]:
        ascending = [
            (param, labels.get(field, pretty_name(param))) for field, param in fields.items()
        ]
        descending = [
            (f"-{param}", labels.get(f"-{param}", format_lazy(_("{} (descending)"), label)))
            for param, label in ascending
        ]
        return [choice for pair in zip(ascending, descending, strict=True) for choice in pair]


# A KAM's sort by owner: the kept name as an expression, which no index serves.
OWNER_SORT = "owner_kam_sort"


class RegisterOrdering(OrderingFilter):
    """The register's orderings, each made total by the client's id (in the same direction, so
    that one index, ``(field, id)`` in ``Client.Meta.indexes``, serves it both ways): a page
    never repeats or skips a client between two others with the same segment or region."""

    def get_ordering_value(self, param: str) -> str:
        """The owner KAM's name as each client keeps it (``Client.owner_kam_last_name``, one
        index walk over the register), for those who see every client. For a KAM, the same
        column as an expression no index serves (``OWNER_SORT``): their accounts are read,
        then sorted, whereas a walk along the whole register's index would pass every other
        KAM's clients before reaching theirs (2.6 s at a million clients), and reading the
        name through a join of the owner cost three times the sort."""
        value = super().get_ordering_value(param)
        user = getattr(getattr(self, "parent", None), "request", None)
        user = getattr(user, "user", None)
        if value.lstrip("-") == "owner_kam_last_name" and not (
            user is not None and user.has_perm("accounts.view_all_clients")
        ):
            return value.replace("owner_kam_last_name", OWNER_SORT)
        return value

    def filter(self, qs: QuerySet[Client], value: list[str] | None) -> QuerySet[Client]:
        if value and any(self.get_ordering_value(v).lstrip("-") == OWNER_SORT for v in value):
            qs = qs.annotate(**{OWNER_SORT: owner_name_sort_key()})
        qs = super().filter(qs, value)
        if value:
            last = self.get_ordering_value(value[-1])
            qs = qs.order_by(*qs.query.order_by, "-pk" if last.startswith("-") else "pk")
        return qs


class ClientFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Name or registration number")
    )
    segment = django_filters.ChoiceFilter(
        label=_("Segment"), choices=Segment.choices, widget=QuickSelect
    )
    industry = django_filters.ChoiceFilter(label=_("Industry"), choices=[], widget=QuickSelect)
    region = django_filters.ChoiceFilter(label=_("Region"), choices=[], widget=QuickSelect)
    owner_kam = django_filters.ModelChoiceFilter(
        label=_("Owner KAM"), queryset=kams(), widget=QuickSelect
    )
    is_key = django_filters.BooleanFilter(
        label=_("Key client"),
        widget=QuickSelect(choices=[("", _("Any")), ("true", _("Key")), ("false", _("Regular"))]),
    )
    ordering = RegisterOrdering(
        fields=(
            ("name", "name"),
            ("registration_number", "registration_number"),
            ("segment", "segment"),
            ("industry", "industry"),
            ("region", "region"),
            ("owner_kam_last_name", "owner_kam"),
            ("updated_at", "updated_at"),
        ),
        field_labels={
            "name": _("Name"),
            "registration_number": _("Registration number"),
            "segment": _("Segment"),
            "industry": _("Industry"),
            "region": _("Region"),
            "owner_kam_last_name": _("Owner KAM"),
            "updated_at": _("Updated"),
        },
        label=_("Sort by"),
        widget=QuickSelect,
    )

    class Meta:
        model = Client
        fields = ["q", "segment", "industry", "region", "owner_kam", "is_key"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Offer the industries and regions some client has, as ``FilterChoice`` keeps them
        # (every write of a client keeps it): one query, whoever asks and however many clients.
        # A KAM is offered the company's values too: narrowing them to their own accounts read
        # every one of those on each request, 31 ms of a KAM's register at a million clients.
        # Read only when the form is shown or the filter used.
        offered = functools.cache(filter_choices_offered)

        def choices(name: str) -> Callable[[], list[tuple[str, str]]]:
            @functools.cache
            def values() -> list[tuple[str, str]]:
                return [(v, v) for v in offered()[name]]

            return values

        # On the field itself: a field built before from the class's filter (the OpenAPI schema
        # builds one) is copied with it, and would ignore the filter's ``extra``.
        for name in ("industry", "region"):
            self.filters[name].field.choices = choices(name)

    def search(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        return clients_search(queryset, value)

    def sorted_by_kept_owner_name(self) -> bool:
        """Whether the list is sorted first by the owner's name as a KAM's sort reads it
        (``OWNER_SORT``): one name for all the KAM's own accounts, whose page the view reads
        by parts (``accounts.selectors.visibility_parts``)."""
        first = next(iter(self.qs.query.order_by), "")
        return str(first).lstrip("-") == OWNER_SORT

    def filter_queryset(self, queryset: QuerySet[Client]) -> QuerySet[Client]:
        """Every filter in turn, the search last but for the order: it chooses between what
        holds the text and the closest names among the clients the other filters kept, not
        among the whole register (where a client of another industry holding the text left
        an industry's list empty)."""
        data = self.form.cleaned_data
        last = [name for name in ("q", "ordering") if name in data]
        for name in [*(name for name in data if name not in last), *last]:
            queryset = self.filters[name].filter(queryset, data[name])
        return queryset


def _visible_clients(request: HttpRequest | None) -> QuerySet[Client]:
    """The clients a ``?client=`` filter accepts: only those the requesting user may see, so that
    another KAM's client is refused exactly like one that does not exist."""
    if request is None:
        return Client.objects.none()
    return clients_visible_to(request.user)


class ClientNeedFilter(django_filters.FilterSet):
    client = django_filters.ModelChoiceFilter(queryset=_visible_clients)

    class Meta:
        model = ClientNeed
        fields = ["client"]


class ClientFigureFilter(django_filters.FilterSet):
    client = django_filters.ModelChoiceFilter(queryset=_visible_clients)
    period_from = django_filters.DateFilter(field_name="period", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period", lookup_expr="lte")

    class Meta:
        model = ClientFigure
        fields = ["client", "period", "period_from", "period_to"]
