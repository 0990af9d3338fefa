"""Reads of the ruler that need care: the scorecard's explanation, history, and the portfolio."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import Client, User
from accounts.selectors import clients_visible_to
from criteria.models import (
    USP,
    CriterionKind,
    Evaluation,
    EvaluationRun,
    ReviewItem,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
    RunStatus,
)
from criteria.verdicts import FAILS_RULER, MEETS_RULER, NOT_SCORED, UNMET_NAMED, verdict_text

PERCENT = Decimal(100)


@dataclass
class NeedLine:
    need_id: int
    name: str
    weight: int
    degree: Decimal
    usps: list[str]

    @property
    def state(self) -> str:
        if self.degree >= 1:
            return "met"
        return "partial" if self.degree > 0 else "unmet"

    @property
    def shortfall(self) -> Decimal:
        """Weight left uncovered by this need: what it costs the coverage ratio."""
        return self.weight * (1 - self.degree)


@dataclass
class CriterionLine:
    criterion: RulerCriterion
    value: Decimal | None
    passed: bool


@dataclass
class Scorecard:
    evaluation: Evaluation
    ruler: RulerVersion
    needs: list[NeedLine]
    criteria: list[CriterionLine]
    gaps: list[NeedLine] = field(default_factory=list)

    @property
    def coverage_percent(self) -> Decimal | None:
        ratio = self.evaluation.coverage_ratio
        return None if ratio is None else (ratio * PERCENT).quantize(Decimal("0.1"))

    @property
    def threshold_percent(self) -> Decimal:
        return (self.ruler.coverage_threshold * PERCENT).quantize(Decimal("0.1"))

    @property
    def failed_gates(self) -> list[CriterionLine]:
        return [line for line in self.criteria if line.criterion.is_gate and not line.passed]

    @property
    def mismatch_share(self) -> Decimal | None:
        """Share of each deal's value we concede to pay for the uncovered needs (the method:
        below the threshold we buy the client's decision on every deal)."""
        return self.ruler.mismatch_share(self.evaluation.coverage_ratio)

    @property
    def mismatch_cost_per_quarter(self) -> Decimal | None:
        share = self.mismatch_share
        revenue = self.evaluation.revenue_4q
        if share is None or revenue is None:
            return None
        return (revenue / 4 * share).quantize(Decimal(1))

    def verdict(self) -> dict[str, object]:
        """The verdict as data: a code and the values that decide it (``criteria.verdicts``
        says it in the reader's language)."""
        evaluation = self.evaluation
        if evaluation.coverage_ratio is None:
            return {"code": NOT_SCORED}
        numbers = {"coverage": str(self.coverage_percent), "threshold": str(self.threshold_percent)}
        if evaluation.meets_ruler:
            return {"code": MEETS_RULER, **numbers}
        short = evaluation.coverage_ratio < self.ruler.coverage_threshold
        return {
            "code": FAILS_RULER,
            **numbers,
            "short": short,
            "unmet": [
                {"need": line.name, "weight": line.weight} for line in self.gaps[:UNMET_NAMED]
            ]
            if short
            else [],
            "gates": [
                {
                    "kind": line.criterion.kind,
                    "direction": line.criterion.direction,
                    "threshold": str(line.criterion.threshold),
                }
                for line in self.failed_gates
            ],
        }

    def verdict_text(self) -> str:
        """The verdict in plain words, with what decides it, in the active language."""
        return verdict_text(self.verdict())


def _criterion_value(evaluation: Evaluation, kind: str) -> Decimal | None:
    value = getattr(evaluation, kind)
    return None if value is None else Decimal(value)


def scorecard_for(evaluation: Evaluation) -> Scorecard:
    """Explain one evaluation from what it stored (names as they were when it was made)."""
    ruler = evaluation.ruler
    usp_names = dict(USP.objects.values_list("pk", "name"))
    needs = [
        NeedLine(
            need_id=row[0],
            name=row[1],
            weight=int(row[2]),
            degree=Decimal(str(row[3])),
            usps=[usp_names.get(pk, "?") for pk in (row[4] or [])],
        )
        for row in evaluation.breakdown
    ]
    needs.sort(key=lambda line: (-line.weight, line.name))
    criteria = [
        CriterionLine(
            criterion=criterion,
            value=_criterion_value(evaluation, criterion.kind),
            passed=criterion.passes(_criterion_value(evaluation, criterion.kind)),
        )
        for criterion in ruler.criteria.all()
    ]
    # The largest shortfalls first; among equal ones, the need entered first: an order that does
    # not depend on the names' language, so a verdict names the same needs in English and Russian.
    gaps = sorted(
        (line for line in needs if line.degree < 1 and line.weight > 0),
        key=lambda line: (-line.shortfall, line.need_id),
    )
    return Scorecard(evaluation=evaluation, ruler=ruler, needs=needs, criteria=criteria, gaps=gaps)


def evaluation_history(client: Client, *, limit: int = 12) -> list[Evaluation]:
    """The client's evaluations, newest first, with their run (for the trend)."""
    return list(
        Evaluation.objects.filter(client=client)
        .select_related("run", "ruler")
        .order_by("-run_id")[:limit]
    )


def last_finished_run() -> EvaluationRun | None:
    return (
        EvaluationRun.objects.filter(status=RunStatus.DONE)
        .select_related("ruler")
        .order_by("-pk")
        .first()
    )


def open_review_items_for(user: User) -> QuerySet[ReviewItem]:
    return (
        ReviewItem.objects.filter(closed_at__isnull=True, client__in=clients_visible_to(user))
        .select_related("client", "client__owner_kam", "opened_by_run")
        .order_by("kind", "client__name")
    )


CRITERION_UNITS = {
    CriterionKind.POTENTIAL_REVENUE: "money",
    CriterionKind.REVENUE_4Q: "money",
    CriterionKind.GROSS_MARGIN_PERCENT: "percent",
    CriterionKind.REVENUE_GROWTH: "percent",
    CriterionKind.SHARE_OF_WALLET: "percent",
    CriterionKind.STRATEGIC_FIT: "rating",
}


def mismatch_shares(*, client_ids: set[int]) -> dict[int, Decimal]:
    """For each of these clients below the ruler in force, the share of each deal's value
    conceded for its uncovered needs, from the last finished run: at most three queries (the
    ruler, its run, their evaluations), whatever the number of clients. Clients at or above
    the threshold, or not scored, are left out."""
    if not client_ids:
        return {}
    ruler = RulerVersion.objects.filter(status=RulerStatus.IN_FORCE).first()
    run = last_finished_run() if ruler is not None else None
    if run is None:
        return {}
    shares = {}
    for client_id, ratio in Evaluation.objects.filter(
        run=run, client_id__in=client_ids
    ).values_list("client_id", "coverage_ratio"):
        share = ruler.mismatch_share(ratio)
        if share is not None:
            shares[client_id] = share
    return shares
