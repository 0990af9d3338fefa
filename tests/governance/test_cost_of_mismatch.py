"""The cost of mismatch where it is paid, in the company's currency: on the scorecard, in the
evidence frozen on a proposal, and on the approver's exception list, against the deal asked."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.templatetags.money import money
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import RulerStatus, RulerVersion
from governance.committee.proposals import proposal_create, proposal_open
from governance.models import (
    Approver,
    CommitteeMember,
    CommitteeRole,
    EscalationTier,
    Mandate,
    MandateAccount,
)
from governance.shell.exception_requests import exception_file
from governance.shell.mandates import mandate_adopt
from tests.factories import FigureFactory, meets_the_ruler

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]
NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture
def half_covered(account_of_kam):
    """Half the client's needs covered (ruler: 75 %, concession rate 10 %): every deal concedes
    about 5 % of its value; four quarters of 1,000,000 make 50,000 a quarter."""
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    meets_the_ruler(account_of_kam, degree="0.5")
    for period in ("2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01"):
        FigureFactory(client=account_of_kam, period=datetime.date.fromisoformat(period))
    return account_of_kam


def test_an_amount_carries_the_companys_currency(settings) -> None:
    assert money(Decimal("1234567.4")) == f"1,234,567{NBSP}RUB"
    assert money(None) == "—"
    settings.SKAM_CURRENCY = "EUR"
    assert money(50) == f"50{NBSP}EUR"


def test_the_scorecard_prices_the_mismatch_in_the_currency(client_as, chair, half_covered) -> None:
    page = client_as(chair).get(reverse("criteria:scorecard", args=[half_covered.pk])).text

    mismatch = page.split('data-testid="mismatch"')[1].split("</p>")[0]
    assert "about 5 % of every deal" in mismatch
    assert f"about 50,000{NBSP}RUB a quarter at current sales" in mismatch


def test_the_proposal_freezes_the_cost_of_mismatch_in_its_evidence(
    client_as, chair, half_covered
) -> None:
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    proposal = proposal_create(
        type="strategic_bet",
        title="Hold as a bet",
        rationale="Grows fast.",
        by=chair,
        client=half_covered,
        review_date=datetime.date(2027, 5, 1),
    )
    proposal = proposal_open(
        proposal=proposal, deadline=timezone.now() + datetime.timedelta(days=3)
    )

    page = client_as(chair).get(proposal.get_absolute_url()).text

    assert proposal.evidence["mismatch_percent"] == "5.0"
    assert proposal.evidence["mismatch_cost_per_quarter"] == "50000"
    frozen = page.split('data-testid="evidence-mismatch"')[1].split("</p>")[0]
    assert "about 5.0 % of every deal" in frozen and f"50,000{NBSP}RUB" in frozen
    assert f"1,000,000{NBSP}RUB" in page.split('data-testid="evidence"')[1]


def test_the_approver_sees_what_the_mismatch_costs_on_the_deal_asked(
    client_as, chair, kam, half_covered
) -> None:
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.HEAD_OF_KAM)
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    mandate = Mandate.objects.create(
        kam=kam, title="Key", valid_from=datetime.date(2026, 1, 1), max_deal_value=1_000_000
    )
    MandateAccount.objects.create(mandate=mandate, client=half_covered)
    mandate_adopt(mandate=mandate)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 11, 1)))
    exception_file(
        kam=kam,
        client_id=half_covered.pk,
        asked={"deal_value": Decimal(20_000_000)},
        justification="Three-year contract",
    )

    page = client_as(chair).get(reverse("governance:exception-list")).text

    assert f"20,000,000{NBSP}RUB" in page.split('data-testid="deal-value">')[1].split("</td>")[0]
    cost = page.split('data-testid="deal-mismatch">')[1].split("</td>")[0]
    assert cost == f"about 5.0 % of the deal — 1,000,000{NBSP}RUB"


def test_the_cost_of_mismatch_speaks_russian(client_as, chair, half_covered) -> None:
    http = client_as(chair)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})

    page = http.get(reverse("criteria:scorecard", args=[half_covered.pk])).text

    assert "₽ в квартал" in page  # the reader's sign for the company's currency


def test_the_deal_check_says_what_the_mismatch_costs_on_this_deal(
    client_as, kam, half_covered
) -> None:
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.HEAD_OF_KAM)
    mandate = Mandate.objects.create(
        kam=kam, title="Key", valid_from=datetime.date(2026, 1, 1), max_deal_value=1_000_000
    )
    MandateAccount.objects.create(mandate=mandate, client=half_covered)
    mandate_adopt(mandate=mandate)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 11, 1)))

    page = client_as(kam).post(
        reverse("governance:my-mandate"), {"client": half_covered.pk, "deal_value": "20000000"}
    )

    said = page.text.split('data-testid="check-mismatch">')[1].split("</p>")[0]
    assert "about 5.0 % of every deal" in said
    assert f"about 1,000,000{NBSP}RUB on this deal, before anything you concede" in said
