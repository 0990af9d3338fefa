"""Paging the register at any size: a count that stays cheap, and keyset pages for the API.

The count is exact up to ``EXACT_COUNT_LIMIT`` rows, which it reads no further than; past that,
on PostgreSQL, it is the planner's estimate, and says so (``count_is_estimate``), so that the
page writes "about". The API's pages follow a cursor, the last row's values along the list's
ordering, instead of an offset, so the millionth row costs what the first does.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from accounts.lookups import AnyOf

# Counted exactly up to here; reading further to count costs more than the page itself.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class RowCount:
    value: int
    estimated: bool


def count_rows(queryset: QuerySet, *, at_least: int | None = None) -> RowCount:
    """How many rows ``queryset`` has: exact up to ``EXACT_COUNT_LIMIT``, estimated beyond on
    PostgreSQL (exact on SQLite, the embedded default's size). ``at_least``: rows the caller
    already read (up to the limit and one), which need not be counted again."""
    ids = queryset.order_by().values("pk")
    connection = connections[queryset.db]
    if connection.vendor == "postgresql" and at_least is None:
        # One query either way (``skam_count_rows``, migration accounts 0014): the same
        # number of queries for a page at a thousand clients and at a million.
        try:
            sql, params = ids.query.sql_with_params()
        except EmptyResultSet:  # ``none()``, ``pk__in=[]``: nothing to count, no query
            return RowCount(0, estimated=False)
        with connection.cursor() as cursor:
            query = cursor.mogrify(sql, params).decode()
            cursor.execute(
                "SELECT n, estimated FROM skam_count_rows(%s, %s)", [query, EXACT_COUNT_LIMIT]
            )
            value, estimated = cursor.fetchone()
        return RowCount(int(value), estimated=bool(estimated))
    exact = ids[: EXACT_COUNT_LIMIT + 1].count() if at_least is None else at_least
    if exact <= EXACT_COUNT_LIMIT:
        return RowCount(exact, estimated=False)
    if connection.vendor != "postgresql":
        return RowCount(ids.count(), estimated=False)
    sql, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return RowCount(max(int(plan[0]["Plan"]["Plan Rows"]), exact), estimated=True)


def first_ids(rows: QuerySet, limit: int) -> list[Any]:
    """The ids of up to ``limit`` rows of ``rows``, in no order, its matches read as a set
    (through the indexes of its conditions) rather than looked for along an index in some
    order, which PostgreSQL, asked for a few rows, may prefer (``_sorted_ids``)."""
    try:
        sql, params = rows.order_by().values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED ({sql}) SELECT * FROM matches LIMIT %s",
            [*params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _is_postgresql(rows: QuerySet) -> bool:
    return connections[rows.db].vendor == "postgresql"


def _total_ordering(rows: QuerySet) -> tuple[list[str], list[str]]:
    """The list's ordering, ended by the id, and the columns to read for it (the id first)."""
    ordering = [str(name) for name in rows.query.order_by]
    if not ordering or ordering[-1].lstrip("-") not in {"pk", "id"}:
        ordering.append("pk")
    columns = list(dict.fromkeys(["pk", *(name.lstrip("-") for name in ordering)]))
    return ordering, columns


def _positions(ordering: list[str], columns: list[str]) -> str:
    """``ORDER BY`` by the columns' positions in the select list."""
    return ", ".join(
        f"{columns.index(name.lstrip('-')) + 1} {'DESC' if name.startswith('-') else 'ASC'}"
        for name in ordering
    )


def _sorted_ids(rows: QuerySet, bottom: int, top: int) -> list[Any]:
    """The ids of ``rows[bottom:top]``, its matches read first (through the search's index)
    and then sorted. Asked for a page in the list's order, the planner may instead walk the
    index of that order and test every row on the way, not knowing how few rows a pattern
    matches, nor where in that order they lie: at a million clients, one name took a second
    to find that way and a millisecond this way; the 55,000 names holding one common word
    (sorting last, in Cyrillic) 755 ms and 60 ms."""
    ordering, columns = _total_ordering(rows)
    try:
        sql, params = rows.order_by().values_list(*columns).query.sql_with_params()
    except EmptyResultSet:
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(
            f"WITH matches AS MATERIALIZED ({sql}) SELECT * FROM matches "
            f"ORDER BY {_positions(ordering, columns)} LIMIT %s OFFSET %s",
            [*params, top - bottom, bottom],
        )
        return [row[0] for row in cursor.fetchall()]


def _merged_ids(rows: QuerySet, parts: list[Q], bottom: int, top: int) -> RawSQL:
    """The ids of ``rows[bottom:top]``, as a subquery of the page's own query, where ``parts``
    split ``rows`` into sets that do not meet: the first ``top`` of each part in the list's
    order, each read along an index of its own, then merged. A KAM's accounts sorted by
    owner are their own, under one owner's name (an index of owner and name), and their
    teams' (a few, read and sorted): sorting them all in one read took 40 ms at a million
    clients with fifty thousand accounts a KAM, and 10 ms so."""
    ordering, columns = _total_ordering(rows)
    selects, params = [], []
    for part in parts:
        branch = rows.filter(part).values_list(*columns).order_by(*ordering)[:top]
        try:
            sql, branch_params = branch.query.sql_with_params()
        except EmptyResultSet:
            continue
        selects.append(f"({sql})")
        params += branch_params
    if not selects:
        selects.append(f"(SELECT {', '.join(['NULL'] * len(columns))} WHERE false)")
    return RawSQL(
        f"SELECT page.{connections[rows.db].ops.quote_name('pk')} FROM ("
        f"SELECT * FROM ({' UNION ALL '.join(selects)}) merged "
        f"ORDER BY {_positions(ordering, columns)} LIMIT %s OFFSET %s) page",
        [*params, top - bottom, bottom],
    )


class CheapCountPaginator(Paginator):
    """Django's paginator over ``count_rows``: ``count_is_estimate`` tells the page to say
    "about". A page of a queryset is cut from its ids alone, then read whole (one query):
    an order no index serves (the owner KAM's name, a joined column) sorts every row, and
    sorting ids costs a fraction of sorting whole rows with their owner and annotations.
    ``sort_matches`` (a search): its matches are read, then sorted (``_sorted_ids``), rather
    than looked for along an index in the list's order. ``parts``: sets that split the list,
    each paged along its own index, then merged (``_merged_ids``)."""

    def __init__(
        self,
        *args: Any,
        sort_matches: bool = False,
        parts: list[Q] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sort_matches = sort_matches
        self.parts = parts

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        ranked = self._ranked_ids
        if ranked is not None and top <= len(ranked):
            rows = rows.filter(pk__in=ranked[bottom:top])
        elif isinstance(rows, QuerySet) and self.sort_matches and _is_postgresql(rows):
            rows = rows.filter(pk__in=_sorted_ids(rows, bottom, top))
        elif isinstance(rows, QuerySet) and self.parts and _is_postgresql(rows):
            rows = rows.filter(pk__in=_merged_ids(rows, self.parts, bottom, top))
        elif isinstance(rows, QuerySet):
            rows = rows.filter(pk__in=rows.values("pk")[bottom:top])
        else:
            rows = rows[bottom:top]
        return self._get_page(rows, number, self)

    @cached_property
    def _ranked_ids(self) -> list[Any] | None:
        """For a search ordered by closeness, the ids of its first matches (up to the exact
        count's limit and one), in order: one pass that both counts and pages them. No index
        serves that order, so the closeness of every match is computed whichever page is asked;
        counting them apart, then cutting the page, searched twice."""
        rows = self.object_list
        if not isinstance(rows, QuerySet) or rows.query.order_by[:1] != ("-search_rank",):
            return None
        return list(rows.values_list("pk", flat=True)[: EXACT_COUNT_LIMIT + 1])

    @cached_property
    def row_count(self) -> RowCount:
        ranked = self._ranked_ids
        at_least = None if ranked is None else len(ranked)
        return count_rows(self.object_list, at_least=at_least)

    @cached_property
    def count(self) -> int:
        return self.row_count.value

    @property
    def count_is_estimate(self) -> bool:
        return self.row_count.estimated


def _value_at(row: Model, path: str) -> Any:
    """The value of ``path`` (``owner_kam__last_name``, an annotation, ``pk``) on ``row``."""
    value: Any = row
    for part in path.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value.pk if isinstance(value, Model) else value


def _may_be_null(model: type[Model], path: str) -> bool:
    """Whether the column at ``path`` may hold NULL: a nullable field, or one reached through a
    nullable relation; an annotation, unknown, may."""
    for step in path.split("__"):
        if step == "pk":
            return False
        try:
            field = model._meta.get_field(step)
        except FieldDoesNotExist:
            return True
        if field.null:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def _after(
    ordering: list[str], values: list[Any], *, nulls_largest: bool, nullable: list[bool]
) -> Q:
    """The rows strictly after ``values`` in ``ordering`` (field paths, ``-`` for descending),
    NULL sorting as the database sorts it: largest on PostgreSQL, smallest on SQLite; a
    column that cannot be NULL (``nullable``) is not asked whether it is."""
    path = ordering[0].lstrip("-")
    descending = ordering[0].startswith("-")
    value = values[0]
    if value is None:
        # Past NULL only non-NULL values remain, if NULL comes first in this direction.
        after = Q(**{f"{path}__isnull": False}) if descending == nulls_largest else Q(pk__in=[])
        same = Q(**{f"{path}__isnull": True})
    else:
        after = Q(**{f"{path}__lt" if descending else f"{path}__gt": value})
        if nullable[0] and descending != nulls_largest:  # NULL comes last in this direction
            after |= Q(**{f"{path}__isnull": True})
        same = Q(**{path: value})
    if len(ordering) == 1:
        return after
    return after | (
        same & _after(ordering[1:], values[1:], nulls_largest=nulls_largest, nullable=nullable[1:])
    )


def _keyset(
    model: type[Model],
    ordering: list[str],
    values: list[Any],
    *,
    nulls_largest: bool,
    bound: bool = True,
) -> Q:
    """``_after``, and, when the first column cannot be NULL, the bound it sets on its own
    (``name >= 'Volga'``): an index on the ordering starts at the cursor, rather than reading
    every row before it to filter them out. ``bound=False`` leaves the bound out."""
    nullable = [_may_be_null(model, name.lstrip("-")) for name in ordering]
    after = _after(ordering, values, nulls_largest=nulls_largest, nullable=nullable)
    if not bound or nullable[0] or values[0] is None:
        return after
    path = ordering[0].lstrip("-")
    bound = Q(**{f"{path}__lte" if ordering[0].startswith("-") else f"{path}__gte": values[0]})
    return bound & after


def _holds_any_of(node: Any) -> bool:
    """Whether a query's conditions hold an ``AnyOf`` (a KAM's team accounts, ``id =
    ANY(ARRAY(…))``). Beside it, the cursor's bound misleads PostgreSQL: not knowing the
    array's size, it reads the (name, id) index from the cursor to the end for the few ids
    it expects, where reading the team's ids costs nothing. At a million clients, a KAM's
    page deep in the API took 177 ms with the bound and 21 ms without."""
    return any(
        isinstance(child, AnyOf) or _holds_any_of(child) for child in getattr(node, "children", ())
    )


class _CursorEncoder(DjangoJSONEncoder):
    """Django's encoder, but a time to the microsecond: cut to the millisecond, a cursor
    pointed between rows a few microseconds apart, and walking back repeated them."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


def encode_cursor(values: list[Any], *, backwards: bool = False) -> str:
    """The cursor of the page after (``backwards``: before) the row with these values along
    the list's ordering."""
    payload = json.dumps({"v": values, "b": backwards}, cls=_CursorEncoder)
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _reversed(ordering: list[str]) -> list[str]:
    return [name[1:] if name.startswith("-") else f"-{name}" for name in ordering]


class KeysetPagination(BasePagination):
    """Pages of the API list by cursor, along the list's own ordering (``?ordering=``, the
    search's closeness, or the default), which must be field paths or annotations ending with
    the id. The answer keeps the list's ``count``, with ``count_is_estimate``."""

    page_size = 50
    cursor_query_param = "cursor"
    search_query_param = "q"
    invalid_cursor_message = _("Invalid cursor")

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: object = None
    ) -> list[Model]:
        self.request = request
        self.base_url = request.build_absolute_uri()
        ordering = [str(name) for name in queryset.query.order_by]
        if not ordering or ordering[-1].lstrip("-") not in {"pk", "id"}:
            ordering.append("pk")  # a cursor must point at one row
        self.ordering = ordering
        self.row_count = count_rows(queryset)
        values, backwards = self._decode(request.query_params.get(self.cursor_query_param))
        # NULL is the largest value on PostgreSQL and the smallest on SQLite, whichever way a
        # list runs: walking back, the reversed order still sorts it so.
        nulls_largest = connections[queryset.db].vendor == "postgresql"
        if backwards:
            ordering = _reversed(ordering)
        if values is not None:
            queryset = queryset.filter(
                _keyset(
                    queryset.model,
                    ordering,
                    values,
                    nulls_largest=nulls_largest,
                    bound=not _holds_any_of(queryset.query.where),
                )
            )
        queryset = queryset.order_by(*ordering)
        if request.query_params.get(self.search_query_param, "").strip() and _is_postgresql(
            queryset
        ):
            # A search's matches, read and then sorted (``_sorted_ids``), the page's rows next.
            queryset = queryset.filter(pk__in=_sorted_ids(queryset, 0, self.page_size + 1))
        rows = list(queryset[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.has_next = more if not backwards else values is not None
        self.has_previous = values is not None if not backwards else more
        self.rows = rows
        return rows

    def _decode(self, cursor: str | None) -> tuple[list[Any] | None, bool]:
        if not cursor:
            return None, False
        try:
            decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            values, backwards = decoded["v"], bool(decoded["b"])
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            raise NotFound(self.invalid_cursor_message) from None
        if not isinstance(values, list) or len(values) != len(self.ordering):
            raise NotFound(self.invalid_cursor_message)
        return values, backwards

    def _link(self, row: Model, *, backwards: bool) -> str:
        values = [_value_at(row, name.lstrip("-")) for name in self.ordering]
        cursor = encode_cursor(values, backwards=backwards)
        return replace_query_param(self.base_url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        if not self.has_next or not self.rows:
            return None
        return self._link(self.rows[-1], backwards=False)

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        if not self.rows:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return self._link(self.rows[0], backwards=True)

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "count": self.row_count.value,
                "count_is_estimate": self.row_count.estimated,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "example": 123,
                    "description": f"Exact up to {EXACT_COUNT_LIMIT}; beyond, an estimate.",
                },
                "count_is_estimate": {
                    "type": "boolean",
                    "description": "True when ``count`` is the database's estimate.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: object) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The page after (or before) a row, from a list's next or "
                "previous link.",
                "schema": {"type": "string"},
            }
        ]


class PagePagination(PageNumberPagination):
    """DRF's page numbers, read as the schema says them: ``page`` an integer from 1 (a page
    past the last is a 404); anything else, ``last`` and an empty value included, is a 400
    that names it."""

    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator) -> int | str:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError(
                {self.page_query_param: [_("A page number is a whole number from 1.")]}
            )
        return raw

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
