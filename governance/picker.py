"""The client picker: clients found by name or registration number, a page at a time, each with
its key status, its coverage and verdict from its last evaluation against the ruler in force,
and the proposal about it already before the committee. The new-proposal flow
(``committee/proposing.py``) and mandate drafting (``shell``) both pick clients with it.

A leaf of governance: it reads the register, the ruler and the proposals, and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import Client
from accounts.search import clients_search
from criteria.models import Evaluation, RulerStatus, RulerVersion, RunStatus
from governance.models import Proposal, ProposalState

# How many clients a page of the picker lists: a search narrows, pages go further.
PICKER_LIMIT = 10


@dataclass(frozen=True)
class PickedClient:
    """A client as the picker lists it (``coverage_ratio`` and ``meets_ruler`` None: not
    evaluated against the ruler in force yet)."""

    client: Client
    coverage_ratio: Decimal | None
    meets_ruler: bool | None
    open_proposal_id: int | None

    @property
    def coverage_percent(self) -> Decimal | None:
        if self.coverage_ratio is None:
            return None
        return (self.coverage_ratio * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class ClientPage:
    rows: list[PickedClient]
    number: int  # the page, from 1
    has_next: bool
    threshold_percent: Decimal | None  # the ruler in force's, None without one

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def clients_picked(
    *, clients: QuerySet[Client], text: str, page: int = 1, limit: int = PICKER_LIMIT
) -> ClientPage:
    """The clients of ``clients`` (already narrowed to what the reader may see and the
    question may be about) matching ``text`` (``clients_search``: what holds it, or else the
    closest names), page ``page`` of ``limit``: three queries, whatever the number of clients
    and the page."""
    page = max(page, 1)
    ruler = RulerVersion.objects.filter(status=RulerStatus.IN_FORCE).first()
    found_by_text = clients_search(clients, text)
    last = Evaluation.objects.filter(
        client=OuterRef("pk"), ruler=ruler, run__status=RunStatus.DONE
    ).order_by("-run_id")
    open_proposal = Proposal.objects.filter(client=OuterRef("pk"), state=ProposalState.OPEN)
    annotated = found_by_text.annotate(
        last_coverage=Subquery(last.values("coverage_ratio")[:1]),
        last_meets=Subquery(last.values("meets_ruler")[:1]),
        open_proposal_id=Subquery(open_proposal.values("pk")[:1]),
    )
    start = (page - 1) * limit
    found = list(annotated[start : start + limit + 1])
    rows = [
        PickedClient(
            client=client,
            coverage_ratio=client.last_coverage,
            meets_ruler=client.last_meets,
            open_proposal_id=client.open_proposal_id,
        )
        for client in found[:limit]
    ]
    threshold = None if ruler is None else (ruler.coverage_threshold * 100).quantize(Decimal("0.1"))
    return ClientPage(
        rows=rows, number=page, has_next=len(found) > limit, threshold_percent=threshold
    )
