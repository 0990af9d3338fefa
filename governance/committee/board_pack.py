"""The committee's board pack and minutes as PDF, drawn up by the worker and kept with the
meeting.

The pack is what the members read before they sit: the agenda, each proposal's evidence as it
was frozen when its vote opened (the ruler's breakdown, the gaps, the cost of the mismatch when
it was recorded, earlier decisions on the client), the drift panel's figures and the KPI
summary. The minutes are what the meeting did: attendance, each proposal's tally, named votes,
recusals and each decision's digest. Both read the same functions as the pages, so their figures
are the pages' figures; both are drawn by WeasyPrint with the system's fonts (DejaVu, Liberation)
and fetch nothing.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from accounts.models import User
from governance.committee.meetings import meetings_visible_to, minutes
from governance.drift import DriftCount, drift_counts
from governance.kpis.dashboards.portfolio import portfolio_dashboard
from governance.models import BoardPack, BoardPackKind, BoardPackState, Meeting, Proposal

logger = logging.getLogger(__name__)

TEMPLATE = "governance/committee/board_pack.html"
# A pack claimed by a worker that died is asked for again after this long.
STALE_AFTER = datetime.timedelta(minutes=15)


# --- What the pack says -------------------------------------------------------------------------


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class NeedRow:
    need: str
    weight: object
    met_percent: int
    usps: list[str]


@dataclass(frozen=True)
class FrozenEvidence:
    """A proposal's evidence as frozen when its vote opened, ready to print: the gaps are the
    needs our USPs do not fully meet, heaviest shortfall first."""

    verdict: str
    coverage_percent: str
    threshold_percent: str
    needs: list[NeedRow]
    gaps: list[NeedRow]
    mismatch_cost_per_quarter: str
    figures: list[dict[str, str]]
    decisions: list[dict[str, str]]

    @classmethod
    def of(cls, proposal: Proposal) -> FrozenEvidence:
        """The proposal's frozen evidence, its verdict and earlier decisions said in the
        active language."""
        evidence = proposal.evidence
        needs = []
        for line in evidence.get("needs") or []:
            degree = _decimal(line.get("degree")) or Decimal(0)
            needs.append(
                NeedRow(
                    need=str(line.get("need", "")),
                    weight=line.get("weight", ""),
                    met_percent=int((degree * 100).to_integral_value()),
                    usps=list(line.get("usps") or []),
                )
            )

        def shortfall(row: NeedRow) -> Decimal:
            weight = _decimal(row.weight) or Decimal(0)
            return weight * (100 - row.met_percent)

        gaps = sorted((row for row in needs if row.met_percent < 100), key=shortfall, reverse=True)
        return cls(
            verdict=proposal.verdict_text,
            coverage_percent=str(evidence.get("coverage_percent") or ""),
            threshold_percent=str(evidence.get("threshold_percent") or ""),
            needs=needs,
            gaps=gaps,
            mismatch_cost_per_quarter=str(evidence.get("mismatch_cost_per_quarter") or ""),
            figures=list(evidence.get("figures") or []),
            decisions=proposal.evidence_decisions,
        )


@dataclass(frozen=True)
class PackItem:
    number: int
    kind_label: str
    item: object  # the agenda item
    record: object | None  # the minutes' record of its proposal
    evidence: FrozenEvidence | None


@dataclass
class PackContent:
    meeting: Meeting
    kind: str
    items: list[PackItem]
    minutes: object
    drift: list[DriftCount] = field(default_factory=list)
    kpi_headlines: list = field(default_factory=list)
    kpi_table: object | None = None
    kpi_period: str = ""


def board_pack_content(*, meeting: Meeting, kind: str) -> PackContent:
    """What the pack (or the minutes) of ``meeting`` says, read through the pages' functions."""
    record = minutes(meeting=meeting)
    items = [
        PackItem(
            number=entry.number,
            kind_label=entry.item.get_kind_display(),
            item=entry.item,
            record=entry.proposal,
            evidence=FrozenEvidence.of(entry.proposal.proposal)
            if entry.proposal and entry.proposal.proposal.evidence
            else None,
        )
        for entry in record.items
    ]
    content = PackContent(meeting=meeting, kind=kind, items=items, minutes=record)
    if kind == BoardPackKind.PACK:
        content.drift = drift_counts()
        board = portfolio_dashboard()
        content.kpi_headlines = board.headlines
        content.kpi_table = next((t for t in board.tables if t.key == "portfolio-kpis"), None)
        content.kpi_period = board.period_label
    return content


def board_pack_pdf(*, meeting: Meeting, kind: str, language: str) -> tuple[bytes, int]:
    """The PDF of the pack (or the minutes) in ``language``, and its number of pages."""
    with translation.override(language):
        html = render_to_string(
            TEMPLATE,
            {
                "content": board_pack_content(meeting=meeting, kind=kind),
                "generated_at": timezone.localtime(),
                "language": language,
            },
        )
    # Nothing is fetched: the pack's CSS is inline and its fonts are the system's.
    document = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).render()
    return document.write_pdf(), len(document.pages)


# --- Asking for it, drawing it up, handing it out -----------------------------------------------


def board_packs_of(meeting: Meeting) -> list[BoardPack]:
    return list(BoardPack.objects.filter(meeting=meeting).order_by("kind", "language"))


def board_pack_request(
    *, meeting: Meeting, kind: str, language: str, by: User
) -> tuple[BoardPack, bool]:
    """Ask for the pack (or the minutes) of ``meeting`` in ``language``. Returns the row and
    whether the worker must draw it up now: not while it is already queued or being drawn up
    (unless that has been stuck for ``STALE_AFTER``). The caller enqueues after the commit."""
    now = timezone.now()
    with transaction.atomic():
        pack, created = BoardPack.objects.select_for_update().get_or_create(
            meeting=meeting,
            kind=kind,
            language=language,
            defaults={"requested_by": by, "requested_at": now},
        )
        if created:
            return pack, True
        if pack.in_progress and pack.requested_at > now - STALE_AFTER:
            return pack, False
        pack.state = BoardPackState.QUEUED
        pack.requested_by = by
        pack.requested_at = now
        pack.finished_at = None
        pack.error = ""
        pack.save(update_fields=["state", "requested_by", "requested_at", "finished_at", "error"])
    return pack, True


def board_pack_generate(*, pack_id: int) -> BoardPack | None:
    """Draw up a queued pack and keep its file with the meeting. The claim is a conditional
    update, so a message delivered twice draws it up once; None when there was nothing to do."""
    if not BoardPack.objects.filter(pk=pack_id, state=BoardPackState.QUEUED).update(
        state=BoardPackState.RUNNING
    ):
        return None
    pack = BoardPack.objects.select_related("meeting").get(pk=pack_id)
    try:
        pdf, pages = board_pack_pdf(meeting=pack.meeting, kind=pack.kind, language=pack.language)
    except Exception as error:
        logger.exception("Drawing up board pack %s failed.", pack_id)
        BoardPack.objects.filter(pk=pack_id).update(
            state=BoardPackState.FAILED, error=type(error).__name__, finished_at=timezone.now()
        )
        raise
    if pack.file:
        pack.file.delete(save=False)
    pack.file.save(pack.filename(), ContentFile(pdf), save=False)
    pack.pages = pages
    pack.state = BoardPackState.READY
    pack.finished_at = timezone.now()
    pack.save(update_fields=["file", "pages", "state", "finished_at"])
    return pack


def board_packs_visible_to(user: User) -> QuerySet[BoardPack]:
    """Whoever may see a meeting may download its packs."""
    return BoardPack.objects.filter(meeting__in=meetings_visible_to(user))
