"""Drift: what decided itself. The drift panel lists it; the directors' dashboard counts it.

The method: where the committee does not decide, decisions are still made, by drift. Each
list below is one set-based query, and ``drift_counts`` counts those same querysets, so the
panel's figures and the dashboard's drift block are one computation. A leaf of governance:
the committee's panel and the KPIs' dashboard both read it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Client
from accounts.periods import months_before, quarter_start
from criteria.models import Evaluation, EvaluationRun
from criteria.selectors import last_finished_run
from governance.models import (
    Decision,
    ExceptionRequest,
    ExceptionState,
    Incident,
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateStatus,
    Policy,
    PolicyStatus,
    Proposal,
    ProposalType,
)

DRIFT_ROWS = 50


@dataclass
class Drift:
    """What decided itself, and the strategic bets beside it. A bet is below the ruler by
    the committee's decision: it is listed apart (``bets``, with its review date), never
    counted as a key client that fails the ruler; a bet past its review date is drift of its
    own kind (``bets_past_review``), not counted again among decisions past their review."""

    key_without_decision: QuerySet[Client]
    review_overdue: QuerySet[Decision]
    key_failing_ruler: QuerySet[Client]
    meeting_never_considered: QuerySet[Client]
    bets: QuerySet[Decision]
    bets_past_review: QuerySet[Decision]
    run: EvaluationRun | None


def drift(*, today: datetime.date | None = None) -> Drift:
    today = today or timezone.localdate()
    in_force = Decision.objects.in_force()
    grants_in_force = in_force.filter(client=OuterRef("pk"), key_status=True)
    run = last_finished_run()
    latest = Evaluation.objects.filter(run=run, client=OuterRef("pk"))
    bets = bets_in_force()
    ever_proposed = Proposal.objects.filter(client=OuterRef("pk"))
    clients = Client.objects.select_related("owner_kam").order_by("name")
    listed_bets = bets.select_related("client", "proposal").order_by("review_date", "pk")
    return Drift(
        key_without_decision=clients.filter(is_key=True).exclude(Exists(grants_in_force)),
        review_overdue=Decision.objects.review_overdue(today)
        .exclude(pk__in=bets.values("pk"))
        .select_related("client", "proposal")
        .order_by("review_date"),
        key_failing_ruler=clients.filter(is_key=True)
        .filter(Exists(latest.filter(meets_ruler=False)))
        .exclude(Exists(bets.filter(client=OuterRef("pk")))),
        meeting_never_considered=clients.filter(is_key=False)
        .filter(Exists(latest.filter(meets_ruler=True)))
        .exclude(Exists(ever_proposed)),
        bets=listed_bets,
        bets_past_review=listed_bets.filter(review_date__lt=today),
        run=run,
    )


def bets_in_force() -> QuerySet[Decision]:
    """The strategic bets in force: clients the committee holds key below the ruler, each until
    its review date (which brings it back to the committee, not the ruler's verdict)."""
    return Decision.objects.in_force().filter(
        proposal__type=ProposalType.STRATEGIC_BET, client__isnull=False
    )


def decisions_due_for_review(*, within_days: int = 30) -> QuerySet[Decision]:
    limit = timezone.localdate() + datetime.timedelta(days=within_days)
    return Decision.objects.filter(
        Q(superseded_by__isnull=True), review_date__isnull=False, review_date__lte=limit
    )


def clients_buying_decisions(*, today: datetime.date | None = None) -> QuerySet[Client]:
    """Clients for whom exceptions keep being granted: more than the policy allows within its
    planning horizon (the method: we are buying the client's decision on every deal — change
    the value chain, or review the client's key status)."""

    today = today or timezone.localdate()
    policy = Policy.objects.filter(status=PolicyStatus.IN_FORCE).first()
    limit = policy.exceptions_flag_after if policy else 3
    months = policy.horizon_months if policy else 12
    since = months_before(today, months)
    granted = (
        ExceptionRequest.objects.filter(
            client=OuterRef("pk"), state=ExceptionState.APPROVED, decided_at__date__gte=since
        )
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Client.objects.annotate(exceptions_granted=Subquery(granted))
        .filter(exceptions_granted__gt=limit)
        .select_related("owner_kam")
        .order_by("-exceptions_granted", "name")
    )


@dataclass
class ShellDrift:
    """Where the management shell has lapsed: key clients no mandate covers today (a mandate
    expired, or none was granted), mandates left in force past their end date, mandates
    carrying no KPI target this quarter, exception requests left unanswered past their answer
    date, and incidents nobody took in hand in time."""

    key_outside_mandates: QuerySet[Client]
    mandates_expired: QuerySet
    mandates_without_targets: QuerySet
    requests_overdue: QuerySet
    incidents_overdue: QuerySet


def shell_drift(*, now: datetime.datetime | None = None) -> ShellDrift:
    now = now or timezone.now()
    today = timezone.localdate(now)
    valid = Mandate.objects.filter(status=MandateStatus.IN_FORCE).overlapping(today, today)
    covered = MandateAccount.objects.filter(mandate__in=valid, client=OuterRef("pk"))
    targets = KpiTarget.objects.filter(mandate=OuterRef("pk"), period=quarter_start(today))
    return ShellDrift(
        key_outside_mandates=Client.objects.filter(is_key=True)
        .exclude(Exists(covered))
        .select_related("owner_kam")
        .order_by("name"),
        mandates_expired=Mandate.objects.filter(status=MandateStatus.IN_FORCE, valid_to__lt=today)
        .select_related("kam")
        .order_by("valid_to"),
        mandates_without_targets=valid.exclude(Exists(targets))
        .select_related("kam")
        .order_by("kam__last_name"),
        requests_overdue=ExceptionRequest.objects.overdue(now)
        .select_related("client", "requested_by")
        .order_by("respond_by"),
        incidents_overdue=Incident.objects.overdue(now)
        .select_related("situation", "client", "owner")
        .order_by("respond_by"),
    )


@dataclass(frozen=True)
class DriftCount:
    """One indicator of drift: ``code`` is its section on the panel, ``title`` its name (the
    panel's heading, the dashboard's row), ``tile`` what follows the figure on the panel and
    the home page, in the number the figure asks for."""

    code: str
    title: str
    tile: str
    count: int


def drift_counts(*, now: datetime.datetime | None = None) -> list[DriftCount]:
    """Every indicator of drift, counted today: the drift panel's tiles and the dashboard's
    drift block, in this order. One query each, whatever the size of the register."""
    now = now or timezone.now()
    found = drift(today=timezone.localdate(now))
    shell = shell_drift(now=now)
    indicators = [
        (
            "key-without-decision",
            _("Treated as key with no decision behind it"),
            lambda n: ngettext(
                "treated as key with no decision behind it",
                "treated as key with no decision behind it",
                n,
            ),
            found.key_without_decision,
        ),
        (
            "review-overdue",
            _("Decisions past their review date"),
            lambda n: ngettext(
                "decision past its review date",
                "decisions past their review date",
                n,
            ),
            found.review_overdue,
        ),
        (
            "bets-overdue",
            _("Strategic bets past their review date"),
            lambda n: ngettext(
                "strategic bet past its review date",
                "strategic bets past their review date",
                n,
            ),
            found.bets_past_review,
        ),
        (
            "key-failing",
            _("Key clients that no longer meet the ruler"),
            lambda n: ngettext(
                "key client that no longer meets the ruler",
                "key clients that no longer meet the ruler",
                n,
            ),
            found.key_failing_ruler,
        ),
        (
            "outside-mandates",
            _("Key clients no mandate in force covers"),
            lambda n: ngettext(
                "key client no mandate in force covers",
                "key clients no mandate in force covers",
                n,
            ),
            shell.key_outside_mandates,
        ),
        (
            "mandates-expired",
            _("Mandates in force past their end date"),
            lambda n: ngettext(
                "mandate in force past its end date",
                "mandates in force past their end date",
                n,
            ),
            shell.mandates_expired,
        ),
        (
            "without-targets",
            _("Mandates with no KPI target this quarter"),
            lambda n: ngettext(
                "mandate with no KPI target this quarter",
                "mandates with no KPI target this quarter",
                n,
            ),
            shell.mandates_without_targets,
        ),
        (
            "requests-overdue",
            _("Exception requests past their answer date"),
            lambda n: ngettext(
                "exception request past its answer date",
                "exception requests past their answer date",
                n,
            ),
            shell.requests_overdue,
        ),
        (
            "incidents-overdue",
            _("Incidents not taken in hand in time"),
            lambda n: ngettext(
                "incident not taken in hand in time",
                "incidents not taken in hand in time",
                n,
            ),
            shell.incidents_overdue,
        ),
        (
            "buying-decisions",
            _("Exceptions granted again and again"),
            lambda n: ngettext(
                "client granted exceptions again and again",
                "clients granted exceptions again and again",
                n,
            ),
            clients_buying_decisions(today=timezone.localdate(now)),
        ),
        (
            "never-considered",
            _("Meet the ruler but were never considered"),
            lambda n: ngettext(
                "meets the ruler but was never considered",
                "meet the ruler but were never considered",
                n,
            ),
            found.meeting_never_considered,
        ),
    ]
    return [
        DriftCount(code=code, title=str(title), tile=tile(count), count=count)
        for code, title, tile, count in (
            (code, title, tile, query.count()) for code, title, tile, query in indicators
        )
    ]
