"""The industries and regions the register's filter offers, kept in ``FilterChoice``.

Every path that writes clients (the client form, the API, the administration, imports, the demo
company) calls ``filter_choices_sync`` with the values it wrote and the values it replaced: each
of them is kept while some client has it and dropped when none has. ``filter_choices_rebuild``
recomputes the whole table, after a load that bypasses the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from accounts.models import Client, FilterChoice, FilterChoiceKind


def filter_choices_sync(*, industries: Iterable[str] = (), regions: Iterable[str] = ()) -> None:
    """Keep each of these industries and regions offered exactly while a client has it."""
    for kind, values in (
        (FilterChoiceKind.INDUSTRY, industries),
        (FilterChoiceKind.REGION, regions),
    ):
        wanted = {value for value in values if value}
        if not wanted:
            continue
        present = set(
            Client.objects.filter(**{f"{kind}__in": wanted})
            .order_by()
            .values_list(kind, flat=True)
            .distinct()
        )
        # No transaction of its own: its callers write the clients in theirs.
        if present:
            FilterChoice.objects.bulk_create(
                [FilterChoice(kind=kind, value=value) for value in present],
                ignore_conflicts=True,
            )
        if wanted - present:
            FilterChoice.objects.filter(kind=kind, value__in=wanted - present).delete()


def filter_choices_rebuild() -> None:
    """Recompute every offered industry and region from the clients."""
    with transaction.atomic():
        FilterChoice.objects.all().delete()
        for kind in FilterChoiceKind:
            values = (
                Client.objects.exclude(**{kind: ""})
                .order_by()
                .values_list(kind, flat=True)
                .distinct()
            )
            FilterChoice.objects.bulk_create(FilterChoice(kind=kind, value=v) for v in values)


def filter_choices_offered() -> dict[str, list[str]]:
    """Every offered value by kind, in order: one query."""
    offered: dict[str, list[str]] = {kind: [] for kind in FilterChoiceKind}
    for kind, value in FilterChoice.objects.order_by("kind", "value").values_list("kind", "value"):
        offered[kind].append(value)
    return offered
