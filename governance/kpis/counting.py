"""Which mandate counts in a quarter, and the scopes (portfolio, KAM, account) a quarter's KPIs
are computed for.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import User
from accounts.periods import quarter_end
from governance.models import (
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateStatus,
)

PORTFOLIO = "portfolio"  # the scope key of the whole portfolio


def scope_key_of(*, kam_id: int | None = None, client_id: int | None = None) -> str:
    if client_id is not None:
        return f"account:{client_id}"
    if kam_id is not None:
        return f"kam:{kam_id}"
    return PORTFOLIO


# Who is measured over what in a quarter ------------------------------------------------------


def adopted_mandates() -> QuerySet[Mandate]:
    """Mandates the committee granted (in force or superseded since), the one that counts for
    a KAM first: the latest ``valid_from``, then the highest id."""
    return Mandate.objects.filter(
        status__in=[MandateStatus.IN_FORCE, MandateStatus.SUPERSEDED], adopted_at__isnull=False
    ).order_by("kam_id", "-valid_from", "-pk")


def mandates_for_quarter(period: datetime.date) -> QuerySet[Mandate]:
    """Adopted mandates whose dates overlap the quarter, the one that counts for each KAM
    first."""
    return adopted_mandates().overlapping(period, quarter_end(period))


def counting_mandates(
    mandates: QuerySet[Mandate], quarters: Iterable[datetime.date]
) -> dict[tuple[int, datetime.date], int]:
    """For each KAM of ``mandates`` (adopted ones, ``adopted_mandates``, narrowed to some
    KAMs) and each quarter, the mandate that counts, by ``mandates_for_quarter``'s rule: one
    query over the KAMs' few mandate versions, for any number of quarters."""
    quarters = list(quarters)
    found: dict[tuple[int, datetime.date], int] = {}
    for pk, kam_id, valid_from, valid_to in mandates.values_list(
        "pk", "kam_id", "valid_from", "valid_to"
    ):  # the one that counts first
        for quarter in quarters:
            if valid_from <= quarter_end(quarter) and (valid_to is None or valid_to >= quarter):
                found.setdefault((kam_id, quarter), pk)
    return found


def counting_targets(
    counting: dict[tuple[int, datetime.date], int], **which: object
) -> dict[tuple[int, int | None, datetime.date], Decimal]:
    """Targets by (KPI, account or None, quarter), each from the mandate that counts in its
    quarter (``counting``, from ``counting_mandates``); ``which`` narrows the targets read
    (``client=…``). One query."""
    pairs = set(counting.items())
    return {
        (kpi_id, client_id, quarter): target
        for kpi_id, client_id, quarter, target, mandate_id, kam_id in KpiTarget.objects.filter(
            mandate_id__in=set(counting.values()),
            period__in={quarter for _kam, quarter in counting},
            **which,
        ).values_list("kpi_id", "client_id", "period", "target", "mandate_id", "mandate__kam_id")
        if ((kam_id, quarter), mandate_id) in pairs
    }


def mandate_of_kam(period: datetime.date) -> dict[int, int]:
    """For each KAM measured in the quarter, the mandate that counts (one query)."""
    found: dict[int, int] = {}
    for mandate_id, kam_id in mandates_for_quarter(period).values_list("pk", "kam_id"):
        found.setdefault(kam_id, mandate_id)
    return found


def mandate_for_quarter(*, kam: User | int, period: datetime.date) -> Mandate | None:
    """The mandate a KAM is measured under in a quarter, or None."""
    kam_id = kam if isinstance(kam, int) else kam.pk
    return mandates_for_quarter(period).filter(kam_id=kam_id).first()


@dataclass
class QuarterScopes:
    """The KAMs measured in a quarter, their mandates and accounts."""

    mandate_of_kam: dict[int, int] = field(default_factory=dict)
    accounts_of_kam: dict[int, list[int]] = field(default_factory=dict)
    kam_of_account: dict[int, int] = field(default_factory=dict)

    @property
    def account_ids(self) -> list[int]:
        return list(self.kam_of_account)


def quarter_scopes(period: datetime.date) -> QuarterScopes:
    """Two queries, whatever the number of KAMs and accounts."""
    scopes = QuarterScopes(mandate_of_kam=mandate_of_kam(period))
    kam_of_mandate = {mandate_id: kam_id for kam_id, mandate_id in scopes.mandate_of_kam.items()}
    accounts = MandateAccount.objects.filter(mandate_id__in=list(kam_of_mandate)).values_list(
        "mandate_id", "client_id"
    )
    for mandate_id, client_id in sorted(accounts, key=lambda row: (kam_of_mandate[row[0]], row)):
        kam_id = kam_of_mandate[mandate_id]
        if client_id not in scopes.kam_of_account:
            scopes.kam_of_account[client_id] = kam_id
            scopes.accounts_of_kam.setdefault(kam_id, []).append(client_id)
    for kam_id in scopes.mandate_of_kam:
        scopes.accounts_of_kam.setdefault(kam_id, [])
    return scopes
