"""A lookup of our own, a leaf (it imports no model): ``AnyOf``, which the selectors use for a
KAM's team accounts and the API's cursor recognises."""

from __future__ import annotations

from typing import Any

from django.db.models import Lookup


class AnyOf(Lookup):
    """``lhs = ANY(ARRAY(subquery))`` on PostgreSQL: the array is computed once, so an OR with
    it is a union of index scans, where ``IN (subquery)`` or ``EXISTS`` in an OR make it read
    every row. ``IN (subquery)`` elsewhere."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY({rhs}))", [*lhs_params, *rhs_params]


class OnTeamOf(AnyOf):
    """The client's team holds a person: on PostgreSQL, ``team_ids @> ARRAY[person]``, the
    column the database keeps on each client (migration ``accounts/0015``), one lookup of its
    GIN index; ``AnyOf`` the person's team accounts (``rhs``) elsewhere. ``lhs`` is the
    client's ``pk``, whose table alias the column is read through."""

    def __init__(self, lhs: Any, rhs: Any, *, person: int) -> None:
        super().__init__(lhs, rhs)
        self.person = person

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        alias = compiler.quote_name_unless_alias(self.lhs.alias)
        return f"{alias}.team_ids @> ARRAY[%s]::bigint[]", [self.person]
