"""Changes of clients' needs, recorded: the needs feed the ruler, so who changed them and when
is part of the record. Every path that edits needs (the page, the API, the admin, imports)
wraps its write in ``needs_recorded``; pages that show frozen evidence ask
``need_changes_since``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import ClientNeed, NeedChange, User


def _needs_of(client_ids: set[int]) -> dict[int, list[dict[str, object]]]:
    needs: dict[int, list[dict[str, object]]] = {pk: [] for pk in client_ids}
    for client_id, name, weight, description in ClientNeed.objects.filter(
        client_id__in=client_ids
    ).values_list("client_id", "name", "weight", "description"):
        needs[client_id].append({"name": name, "weight": weight, "description": description})
    return {pk: sorted(rows, key=lambda row: row["name"]) for pk, rows in needs.items()}


@contextmanager
def needs_recorded(*, client_ids: Iterable[int], by: User | None) -> Iterator[None]:
    """Record, for each client whose needs the wrapped write changes, one ``NeedChange`` with
    the needs before and after; in the write's transaction (two queries around it, one insert)."""
    ids = {pk for pk in client_ids if pk is not None}
    if not ids:  # nothing to record: no query at all
        yield
        return
    with transaction.atomic():
        before = _needs_of(ids)
        yield
        after = _needs_of(ids)
        NeedChange.objects.bulk_create(
            NeedChange(client_id=pk, changed_by=by, before=before[pk], after=after[pk])
            for pk in sorted(ids)
            if before[pk] != after[pk]
        )


def need_changes_since(*, client_id: int, since: datetime.datetime | None) -> QuerySet[NeedChange]:
    """The recorded changes of a client's needs after ``since`` (all of them when None), newest
    first, with who made them."""
    changes = NeedChange.objects.filter(client_id=client_id).select_related("changed_by")
    if since is not None:
        changes = changes.filter(changed_at__gt=since)
    return changes.order_by("-changed_at", "-pk")
