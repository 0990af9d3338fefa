"""The record's filter set, shared by its page, its export and its API list: by object
(table and row), by person, and by date."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from governance.lists import ListFilterSet
from governance.models import RecordEntry
from governance.record.governed import governed_tables
from governance.record.said import table_label


def _table_choices() -> list[tuple[str, str]]:
    """Each table as what its rows are, in the reader's language (the value is its name)."""
    choices = [(table.table, table_label(table.table)) for table in governed_tables()]
    return sorted(choices, key=lambda choice: str(choice[1]).lower())


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class RecordFilter(ListFilterSet):
    table = django_filters.ChoiceFilter(
        field_name="table_name", choices=_table_choices, label=_("Table")
    )
    row = django_filters.CharFilter(field_name="row_pk", label=_("Row"), max_length=40)
    actor = django_filters.ModelChoiceFilter(
        queryset=User.objects.order_by("last_name", "first_name", "pk"), label=_("Person")
    )
    since = django_filters.DateFilter(method="filter_since", label=_("From"))
    until = django_filters.DateFilter(method="filter_until", label=_("Until"))

    class Meta:
        model = RecordEntry
        fields = ["table", "row", "actor", "since", "until"]

    def filter_since(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        return queryset.filter(at__gte=_day_start(value))

    def filter_until(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        if value >= datetime.date.max:
            return queryset
        return queryset.filter(at__lt=_day_start(value + datetime.timedelta(days=1)))
