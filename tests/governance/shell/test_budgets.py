"""Budgets: allocated per key client and quarter, spent by the KAM within the mandate."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.periods import quarter_start
from governance.models import (
    Approver,
    Budget,
    CommitteeMember,
    EscalationTier,
    Mandate,
    MandateAccount,
)
from governance.shell.budgets import budget_spend, budgets_of
from governance.shell.exception_requests import exception_decide, exception_file
from governance.shell.mandates import NotInMandate, mandate_adopt

# The clock is set to noon in Moscow on TODAY (time-machine): budgets are per quarter, and
# no test may meet a quarter's end or midnight halfway through.
TODAY = datetime.date(2026, 11, 18)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(f"{TODAY}T12:00+03:00")]


@pytest.fixture
def budget(kam, member, account_of_kam):
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.SALES_DIRECTOR)
    CommitteeMember.objects.create(
        user=member, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
    )
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=Decimal(5),
        budget_spend_without_approval=Decimal(50_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    return Budget.objects.create(
        client=account_of_kam, period=quarter_start(TODAY), allocated=Decimal(200_000)
    )


def _spend(kam, budget, amount, exception=None):
    return budget_spend(
        kam=kam,
        budget=budget,
        amount=Decimal(amount),
        category="hospitality",
        spent_on=TODAY,
        description="Dinner with the buyer",
        exception=exception,
    )


def test_spending_within_the_threshold_and_the_remaining(kam, budget):
    _spend(kam, budget, "50000")
    _spend(kam, budget, "30000")
    (line,) = budgets_of(mandate=Mandate.objects.get(kam=kam), day=TODAY)
    assert (line.spent_total, line.remaining) == (Decimal(80_000), Decimal(120_000))


def test_over_the_threshold_needs_an_approved_exception(kam, member, account_of_kam, budget):
    with pytest.raises(ValidationError, match="needs an exception approved"):
        _spend(kam, budget, "50000.01")
    request = exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(6)},
        justification="Client event",
    )
    with pytest.raises(ValidationError):
        _spend(kam, budget, "60000", exception=request)  # still pending
    exception_decide(request=request, by=member, approve=True)
    assert _spend(kam, budget, "60000", exception=request).amount == Decimal(60_000)


def test_nobody_spends_past_what_is_left(kam, budget):
    for _ in range(4):
        _spend(kam, budget, "50000")
    with pytest.raises(ValidationError, match=r"Only 0\.00 is left"):
        _spend(kam, budget, "1")


def test_a_kam_cannot_spend_from_another_kams_budget(kam2, budget):
    with pytest.raises(NotInMandate):
        _spend(kam2, budget, "100")


def test_my_mandate_shows_the_budget_and_records_spending(client_as, kam, budget):
    http = client_as(kam)
    response = http.post(
        reverse("governance:budget-spend"),
        {
            "budget": budget.pk,
            "amount": "25000",
            "category": "events",
            "spent_on": TODAY.isoformat(),
            "description": "Plant visit",
        },
        follow=True,
    )
    assert "The spending is recorded." in response.text
    assert 'data-testid="remaining">175,000\N{NO-BREAK SPACE}RUB<' in response.text
    refused = http.post(
        reverse("governance:budget-spend"),
        {
            "budget": budget.pk,
            "amount": "90000",
            "category": "events",
            "spent_on": TODAY.isoformat(),
            "description": "Conference",
        },
        follow=True,
    )
    assert "needs an exception approved for this client" in refused.text
