"""Rows written by an older SKAM, with its sentences in English or Russian, become data on
``migrate`` (governance 0028): said in each reader's language from then on, what could not be
read back kept as written, and the record still holds."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from accounts.roles import Role
from governance.models import Decision, Proposal
from governance.record.verify import record_verify
from tests.factories import ClientFactory, UserFactory

BEFORE = [("governance", "0026_missed_snapshot_schedule")]

RU_MEETS = (
    "Соответствует линейке: наши УТП покрывают 82,3 % взвешенных потребностей клиента "
    "(порог 75,0 %), все обязательные критерии пройдены."
)
EN_FAILS = (
    "Does not meet the ruler: covered 50.0 % of 75.0 %; unmet: Delivery (weight 5), "
    "Price (weight 2); gate not passed: Gross margin, % at least 20."
)


def _latest() -> list[tuple[str, str]]:
    """Every app's last migration: other branches' migrations beside these are undone with
    BEFORE and must be back for the record's check."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _migrate(targets: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_sentences_become_data_and_the_record_still_holds() -> None:
    by = UserFactory(role=Role.COMMITTEE_MEMBER)
    volga, kama = ClientFactory(name="Volga"), ClientFactory(name="Kama")
    old = _migrate(BEFORE)
    try:
        OldProposal = old.get_model("governance", "Proposal")
        OldDecision = old.get_model("governance", "Decision")

        def proposal(**fields: object) -> object:
            return OldProposal.objects.create(
                rationale="Why", proposed_by_id=by.pk, state="adopted", **fields
            )

        granted = proposal(
            type="grant_key",
            title="Присвоить статус ключевого: Volga",  # as SKAM would have said it
            client_id=volga.pk,
            evidence={
                "client": "Volga",
                "ruler": "Линейка 2026, версия 1",
                "verdict": RU_MEETS,
                "meets_ruler": True,
                "coverage_percent": "82.3",
                "threshold_percent": "75.0",
                "decisions": [],
            },
        )
        OldDecision.objects.create(
            proposal_id=granted.pk,
            client_id=volga.pk,
            summary="Присвоить статус ключевого: Volga",
            effective_date=datetime.date(2026, 3, 1),
        )
        bet = proposal(
            type="strategic_bet",
            title="Hold Kama as a bet",  # typed by a person
            client_id=kama.pk,
            review_date=datetime.date(2027, 6, 1),
            evidence={
                "ruler": "v1 Ruler 2026",
                "verdict": EN_FAILS,
                "meets_ruler": False,
                "coverage_percent": "50.0",
                "threshold_percent": "75.0",
                "needs": [
                    {"need": "Price", "weight": 2, "degree": "0.0", "usps": []},
                    {"need": "Delivery", "weight": 5, "degree": "0.0", "usps": []},
                    {"need": "Quality", "weight": 7, "degree": "1", "usps": ["ISO"]},
                ],
                "decisions": [
                    {"date": "2026-03-01", "summary": "Grant key status: Kama"},
                    {"date": "2025-03-01", "summary": "Made key at the 2025 session"},
                ],
            },
        )
        OldDecision.objects.create(
            proposal_id=bet.pk,
            client_id=kama.pk,
            summary="Kama stays key for a year",  # no sentence SKAM says: kept
            effective_date=datetime.date(2026, 4, 1),
        )
        odd = proposal(
            type="grant_key",
            title="x",
            client_id=kama.pk,
            evidence={"verdict": "Sieht gut aus.", "coverage_percent": "80.0"},
        )
    finally:
        _migrate(_latest())

    granted, bet, odd = (Proposal.objects.get(pk=p.pk) for p in (granted, bet, odd))
    assert granted.typed_title == "" and bet.typed_title == "Hold Kama as a bet"
    assert granted.evidence["verdict"] == {
        "code": "meets_ruler",
        "coverage": "82.3",
        "threshold": "75.0",
    }
    assert granted.evidence["ruler"] == {"number": 1, "title": "Линейка 2026"}
    assert bet.evidence["verdict"] == {
        "code": "fails_ruler",
        "coverage": "50.0",
        "threshold": "75.0",
        "short": True,
        "unmet": [{"need": "Delivery", "weight": 5}, {"need": "Price", "weight": 2}],
        "gates": [{"kind": "gross_margin_percent", "direction": "at_least", "threshold": "20"}],
    }
    assert odd.evidence["verdict"] == {"code": "text", "text": "Sieht gut aus."}
    with translation.override("en"):
        assert granted.title == "Grant key status: Volga"
        assert granted.verdict_text.startswith("Meets the ruler: our USPs cover 82.3 %")
    with translation.override("ru"):
        assert bet.verdict_text == (
            "Не соответствует линейке: покрыто 50,0 % из 75,0 %; не закрыто: Delivery (вес 5), "
            "Price (вес 2); не пройден обязательный критерий: Валовая маржа, % не менее 20."
        )
        assert bet.evidence_decisions == [
            {"date": "2026-03-01", "summary": "Присвоить статус ключевого: Kama"},
            {"date": "2025-03-01", "summary": "Made key at the 2025 session"},
        ]
        assert [d.summary for d in Decision.objects.order_by("pk")] == [
            "Присвоить статус ключевого: Volga",
            "Kama stays key for a year",
        ]
    assert Decision.objects.get(proposal=bet).subject == {"text": "Kama stays key for a year"}
    verdict = record_verify()
    assert verdict.broken is None, verdict.broken.describe()
