"""The demo company's figures, in no language: what the method computes from the loaded demo
(coverage, verdicts, key status, drift, mandates, budgets, KPIs…), with every client named by
its INN and every text by the key the demo's language modules name it with. Two demos loaded in
different languages are the same company when these are equal.

Rows are listed in the order they were created, never by a name: a name sorts differently in
each language. Ids are left out (a rolled-back load does not give its ids back).
"""

from __future__ import annotations

from typing import Any

from accounts.models import AccountTeamMember, Client, ClientFigure, ClientNeed
from criteria.models import USP, Evaluation, NeedCoverage, StrategicFitRating
from criteria.selectors import last_finished_run
from governance.drift import drift_counts
from governance.models import (
    AgendaItem,
    Budget,
    BudgetSpend,
    Decision,
    ExceptionRequest,
    Incident,
    KpiSnapshot,
    KpiTarget,
    Mandate,
    MandateAccount,
    Meeting,
    MemberInterest,
    Proposal,
    Vote,
)
from skam.demo_texts import DemoTexts


def demo_figures(texts: DemoTexts) -> dict[str, Any]:
    """The loaded demo's figures, by what they are of; ``texts`` are the language it was
    loaded in, to tell which need and which USP a stored name is."""
    need_key = {name: key for key, name in texts.needs.items()}
    usp_key = {name: key for key, (name, _description) in texts.usps.items()}
    situation_key = {name: key for key, (name, _procedure) in texts.situations.items()}
    clients = list(
        Client.objects.order_by("pk").values_list(
            "registration_number", "segment", "industry", "region", "owner_kam__username", "is_key"
        )
    )
    return {
        "clients": [
            (inn, segment, texts.industries.index(industry), texts.regions.index(region), *rest)
            for inn, segment, industry, region, *rest in clients
        ],
        "teams": list(
            AccountTeamMember.objects.order_by("pk").values_list(
                "client__registration_number", "user__username", "role"
            )
        ),
        "needs": [
            (inn, need_key[name], weight)
            for inn, name, weight in ClientNeed.objects.order_by("pk").values_list(
                "client__registration_number", "name", "weight"
            )
        ],
        "figures": list(
            ClientFigure.objects.order_by("pk").values_list(
                "client__registration_number",
                "period",
                "revenue",
                "gross_margin",
                "potential_revenue",
                "share_of_wallet",
            )
        ),
        "usps": [
            usp_key[name] for name in USP.objects.order_by("pk").values_list("name", flat=True)
        ],
        "coverage": sorted(
            (inn, need_key[need], usp_key[usp], degree)
            for inn, need, usp, degree in NeedCoverage.objects.values_list(
                "need__client__registration_number", "need__name", "usp__name", "degree"
            )
        ),
        "fit": sorted(
            StrategicFitRating.objects.values_list("client__registration_number", "rating")
        ),
        # Per client, as the last run saw it: coverage %, verdict, and key status today.
        "verdicts": list(
            Evaluation.objects.filter(run=last_finished_run())
            .order_by("client_id")
            .values_list(
                "client__registration_number", "coverage_ratio", "meets_ruler", "client__is_key"
            )
        ),
        # Per run and client: coverage %, score, verdict, and key status at the time.
        "evaluations": list(
            Evaluation.objects.order_by("run_id", "client_id").values_list(
                "client__registration_number",
                "coverage_ratio",
                "score",
                "meets_ruler",
                "was_key",
                "strategic_fit",
            )
        ),
        "drift": {count.code: count.count for count in drift_counts()},
        "proposals": list(
            Proposal.objects.order_by("pk").values_list(
                "type", "state", "client__registration_number", "mandate__kam__username"
            )
        ),
        "votes": sorted(
            Vote.objects.values_list(
                "proposal__type", "proposal__client__registration_number", "member__username"
            )
        ),
        "decisions": list(
            Decision.objects.order_by("pk").values_list(
                "kind", "client__registration_number", "key_status", "review_date"
            )
        ),
        # Per mandate: its KAM, state, validity, limits and accounts (with their overrides).
        "mandates": [
            (*mandate, list(accounts))
            for mandate, accounts in (
                (
                    (m.kam.username, m.status, m.valid_from, m.valid_to, m.max_discount_percent),
                    MandateAccount.objects.filter(mandate=m)
                    .order_by("pk")
                    .values_list("client__registration_number", "max_discount_percent"),
                )
                for m in Mandate.objects.select_related("kam").order_by("pk")
            )
        ],
        "budgets": list(
            Budget.objects.order_by("pk").values_list(
                "client__registration_number", "period", "allocated"
            )
        ),
        "spending": list(
            BudgetSpend.objects.order_by("pk").values_list(
                "budget__client__registration_number", "amount", "category"
            )
        ),
        "exceptions": list(
            ExceptionRequest.objects.order_by("pk").values_list(
                "requested_by__username", "client__registration_number", "state", "approver"
            )
        ),
        "incidents": [
            (situation_key[name], *rest)
            for name, *rest in Incident.objects.order_by("pk").values_list(
                "situation__name", "client__registration_number", "state", "owner__username"
            )
        ],
        "meetings": list(Meeting.objects.order_by("pk").values_list("held_on")),
        "agenda": list(
            AgendaItem.objects.order_by("meeting_id", "order", "pk").values_list(
                "kind", "proposal__type", "proposal__client__registration_number"
            )
        ),
        "interests": list(
            MemberInterest.objects.order_by("pk").values_list(
                "member__username", "client__registration_number"
            )
        ),
        "kpi_targets": list(
            KpiTarget.objects.order_by("pk").values_list(
                "kpi__code", "mandate__kam__username", "mandate__status", "period", "target"
            )
        ),
        "kpi_snapshots": sorted(
            KpiSnapshot.objects.values_list(
                "kpi__code",
                "period",
                "scope",
                "kam__username",
                "client__registration_number",
                "value",
            ),
            key=repr,
        ),
    }
