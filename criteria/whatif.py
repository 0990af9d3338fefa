"""What-if: which clients would gain or lose key eligibility if a draft ruler were in force,
and what share of sales they carry. Computed by the same statement as a run, not stored."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from accounts.models import Client
from criteria.evaluation import evaluation_select_sql, ruler_in_force
from criteria.models import RulerVersion


@dataclass(frozen=True)
class Flip:
    client_id: int
    name: str
    revenue_4q: Decimal
    coverage_ratio: Decimal | None


@dataclass
class WhatIf:
    in_force: RulerVersion
    draft: RulerVersion
    gains: list[Flip] = field(default_factory=list)
    losses: list[Flip] = field(default_factory=list)
    eligible_before: int = 0
    eligible_after: int = 0
    sales_total: Decimal = Decimal(0)
    sales_before: Decimal = Decimal(0)
    sales_after: Decimal = Decimal(0)

    @staticmethod
    def _share(part: Decimal, whole: Decimal) -> Decimal | None:
        return (part * 100 / whole).quantize(Decimal("0.1")) if whole else None

    @property
    def share_before(self) -> Decimal | None:
        return self._share(self.sales_before, self.sales_total)

    @property
    def share_after(self) -> Decimal | None:
        return self._share(self.sales_after, self.sales_total)

    @property
    def gains_share(self) -> Decimal | None:
        return self._share(sum((f.revenue_4q for f in self.gains), Decimal(0)), self.sales_total)

    @property
    def losses_share(self) -> Decimal | None:
        return self._share(sum((f.revenue_4q for f in self.losses), Decimal(0)), self.sales_total)


def _verdicts(
    ruler: RulerVersion, as_of: datetime.date, low: int, high: int
) -> dict[int, tuple[bool, Decimal, Decimal | None]]:
    """client id → (meets the ruler, revenue of the last 4 quarters, coverage ratio)."""
    select, params = evaluation_select_sql(
        ruler=ruler, as_of=as_of, low=low, high=high, run_id=None, now=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT client_id, meets_ruler, revenue_4q, coverage_ratio FROM ({select}) AS e",
            params,
        )
        return {
            client_id: (
                bool(meets),
                Decimal(str(revenue or 0)),
                None if ratio is None else Decimal(str(ratio)),
            )
            for client_id, meets, revenue, ratio in cursor.fetchall()
        }


def ruler_what_if(*, draft: RulerVersion, as_of: datetime.date | None = None) -> WhatIf:
    in_force = ruler_in_force()
    as_of = as_of or timezone.localdate()
    bounds = Client.objects.aggregate(low=Min("pk"), high=Max("pk"))
    result = WhatIf(in_force=in_force, draft=draft)
    if bounds["low"] is None:
        return result
    before = _verdicts(in_force, as_of, bounds["low"], bounds["high"])
    after = _verdicts(draft, as_of, bounds["low"], bounds["high"])
    flipped = [pk for pk in before if before[pk][0] != after[pk][0]]
    names = dict(Client.objects.filter(pk__in=flipped).values_list("pk", "name"))
    for pk, (meets, revenue, _ratio) in before.items():
        result.sales_total += revenue
        if meets:
            result.eligible_before += 1
            result.sales_before += revenue
        if after[pk][0]:
            result.eligible_after += 1
            result.sales_after += revenue
        if pk in names:
            flip = Flip(pk, names[pk], revenue, after[pk][2])
            (result.gains if after[pk][0] else result.losses).append(flip)
    for flips in (result.gains, result.losses):
        flips.sort(key=lambda f: (-f.revenue_4q, f.name))
    return result
