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
    ExceptionState,
    Mandate,
    MandateAccount,
)
from governance.shell.budgets import budget_spend, budgets_of
from governance.shell.exception_requests import exception_decide, exception_file
from governance.shell.mandates import NotInMandate, mandate_adopt
from tests.factories import ExceptionRequestFactory, MandateFactory

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
    # The licence names the budget-spend limit and the amount (a discount's would not do).
    request = exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"budget_spend": Decimal(60_000)},
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
    # The currency once, in the column's header, not again in every cell.
    assert '<th scope="col" class="num">Remaining, RUB</th>' in response.text
    assert 'data-testid="remaining">175,000<' in response.text
    assert f"{budget.client}, 2026 Q4</option>" in response.text
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


# An exception is a licence for one thing ------------------------------------------------------


def _licence(kam, client, asked: dict, member) -> object:
    request = exception_file(
        kam=kam, client_id=client.pk, asked=asked, justification="Event", deal="Q4 plant visit"
    )
    return exception_decide(request=request, by=member, approve=True)


def _spend_by_page_and_api(client_as, kam, budget, amount: str, exception) -> tuple[int, str]:
    """Spend through the page and the API; what the API answered, and the page's message. A
    licence that does not cover the spending is how things stand, not a malformed request: the
    API answers 409."""
    data = {
        "budget": budget.pk,
        "amount": amount,
        "category": "events",
        "spent_on": TODAY.isoformat(),
        "description": "Plant visit",
        "exception": exception.pk,
    }
    page = client_as(kam).post(reverse("governance:budget-spend"), data, follow=True)
    api = client_as(kam).post("/api/spending/", data, content_type="application/json")
    return api.status_code, page.text


def test_a_discount_exception_licenses_no_spending(client_as, kam, member, account_of_kam, budget):
    discount = _licence(kam, account_of_kam, {"discount_percent": Decimal(9)}, member)
    with pytest.raises(ValidationError, match="not spending from the budget"):
        _spend(kam, budget, "60000", exception=discount)
    status, page = _spend_by_page_and_api(client_as, kam, budget, "60000", discount)
    assert status == 409
    assert "not spending from the budget" in page
    assert not budget.spending.exists()


def test_another_kams_exception_licenses_nothing(
    client_as, kam, kam2, member, account_of_kam, budget
):
    """Even approved, for this very client and for spending: it is not this KAM's."""
    theirs = ExceptionRequestFactory(
        mandate=MandateFactory(kam=kam2),
        client=account_of_kam,
        requested_by=kam2,
        asked={"budget_spend": "90000"},
        breaches=[{"limit": "budget_spend", "allowed": "50000", "asked": "90000"}],
        state=ExceptionState.APPROVED,
    )
    with pytest.raises(ValidationError, match="another KAM's"):
        _spend(kam, budget, "60000", exception=theirs)
    status, _page = _spend_by_page_and_api(client_as, kam, budget, "60000", theirs)
    assert status == 409
    assert not budget.spending.exists()


def test_a_licence_is_used_up_to_its_amount_and_no_further(
    client_as, kam, member, account_of_kam, budget
):
    licence = _licence(kam, account_of_kam, {"budget_spend": Decimal(70_000)}, member)
    assert licence.deal == "Q4 plant visit"
    _spend(kam, budget, "60000", exception=licence)
    licence.refresh_from_db()
    assert licence.used_amount == Decimal(60_000)
    # 10 000 is left of it: a second spending over the threshold can't use it again.
    status, page = _spend_by_page_and_api(client_as, kam, budget, "55000", licence)
    assert status == 409
    assert "licenses 10000.00 more of spending" in page
    _spend(kam, budget, "10000", exception=licence)
    licence.refresh_from_db()
    assert licence.used_amount == Decimal(70_000)
    with pytest.raises(ValidationError, match=r"licenses 0\.00 more"):
        _spend(kam, budget, "1", exception=licence)


def test_a_refused_spending_uses_none_of_the_licence(kam, member, account_of_kam, budget):
    """The licence is used in the spending's transaction: past what is left of the budget,
    neither is recorded."""
    licence = _licence(kam, account_of_kam, {"budget_spend": Decimal(300_000)}, member)
    with pytest.raises(ValidationError, match="is left of this budget"):
        _spend(kam, budget, "250000", exception=licence)
    licence.refresh_from_db()
    assert licence.used_amount == 0
