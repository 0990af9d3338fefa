"""One company currency (``SKAM_CURRENCY``) on every page that lists amounts: the register's
figures, the budgets, My mandate and the API, as the ISO code in English and the sign in
Russian. The dashboards and their exports: tests/governance/kpis/test_dashboards.py."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from accounts.models import User
from governance.models import Budget, KpiTarget, Mandate, MandateAccount
from governance.shell.mandates import mandate_adopt
from tests.factories import ExceptionRequestFactory, FigureFactory, KpiFactory

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]
QUARTER = datetime.date(2026, 10, 1)


def headers(page: str) -> list[str]:
    return [" ".join(h.split()) for h in re.findall(r"<th[^>]*>([^<]*)</th>", page)]


@pytest.fixture
def figures(account_of_kam):
    FigureFactory(client=account_of_kam, period=datetime.date(2026, 7, 1))
    Budget.objects.create(client=account_of_kam, period=QUARTER, allocated=250_000)
    return account_of_kam


@pytest.mark.parametrize(("language", "sign"), [("en", "RUB"), ("ru", "₽")])
def test_the_registers_amounts_carry_the_currency(
    language: str, sign: str, figures, chair: User, administrator: User, client_as
) -> None:
    http = client_as(chair)
    http.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    detail = headers(http.get(reverse("accounts:client-detail", args=[figures.pk])).text)
    register = headers(http.get(reverse("accounts:client-list")).text)
    budgets = headers(http.get(reverse("governance:budget-list")).text)
    keeper = client_as(administrator)  # who keeps the register enters figures
    keeper.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    entry = headers(keeper.get(reverse("accounts:client-figures", args=[figures.pk])).text)

    revenue = "Revenue" if language == "en" else "Выручка"
    assert f"{revenue}, {sign}" in detail
    assert sum(h.endswith(f", {sign}") for h in detail) == 3  # revenue, margin, potential
    assert any(h.endswith(f", {sign}") for h in register)
    assert sum(h.endswith(f", {sign}") for h in budgets) == 3  # allocated, spent, remaining
    assert f"{revenue}, {sign}" in entry  # where figures are entered by hand, too


def test_my_mandate_says_the_currency_of_its_budgets(
    figures, kam: User, client_as, settings
) -> None:
    mandate = Mandate.objects.create(kam=kam, title="Key", valid_from=datetime.date(2025, 1, 1))
    MandateAccount.objects.create(mandate=mandate, client=figures)
    mandate_adopt(mandate=mandate)
    settings.SKAM_CURRENCY = "EUR"
    page = headers(client_as(kam).get(reverse("governance:my-mandate")).text)
    assert "Budget used this quarter, EUR" in page
    assert "Allocated, EUR" in page


def test_the_api_says_the_currency_of_its_amounts(
    figures, chair: User, client_as, settings
) -> None:
    http = client_as(chair)
    assert {row["currency"] for row in http.get("/api/figures/").json()["results"]} == {"RUB"}
    settings.SKAM_CURRENCY = "EUR"
    (budget,) = http.get("/api/budgets/").json()["results"]
    assert (budget["allocated"], budget["currency"]) == ("250000.00", "EUR")


def test_the_schema_documents_the_currency_beside_the_amounts() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for component, amounts in (
        ("ClientFigure", "revenue, gross_margin and potential_revenue"),
        ("Budget", "allocated, spent and remaining"),
        ("Spend", "amount"),
        ("ExceptionRequest", "used_amount"),
    ):
        currency = schema["components"]["schemas"][component]["properties"]["currency"]
        assert currency["readOnly"] is True and currency["pattern"] == "^[A-Z]{3}$"
        assert amounts in currency["description"] and "ISO 4217" in currency["description"]


def test_limits_passed_and_money_kpis_say_the_currency(
    figures, kam: User, chair: User, client_as, settings
) -> None:
    """A limit counted in money says the currency wherever a request's limits are listed; a
    discount stays a percentage. A money KPI's target does too, on My mandate."""
    mandate = Mandate.objects.create(kam=kam, title="Key", valid_from=datetime.date(2025, 1, 1))
    MandateAccount.objects.create(mandate=mandate, client=figures)
    mandate_adopt(mandate=mandate)
    asked = ExceptionRequestFactory(
        mandate=mandate,
        client=figures,
        breaches=[
            {"limit": "deal_value", "allowed": "100000", "asked": "250000.50"},
            {"limit": "discount_percent", "allowed": "5", "asked": "9"},
        ],
    )
    KpiTarget.objects.create(
        kpi=KpiFactory(code="revenue", name="Revenue"), mandate=mandate, period=QUARTER, target=1400
    )
    settings.SKAM_CURRENCY = "EUR"
    said = (
        "Deal value without approval: asked 250,000.50\xa0EUR, allowed 100,000\xa0EUR; "
        "Discount, %: asked 9, allowed 5"
    )
    detail = client_as(kam).get(reverse("governance:exception-detail", args=[asked.pk])).text
    assert said in detail
    assert said in client_as(chair).get(reverse("governance:exception-list")).text
    mine = client_as(kam).get(reverse("governance:my-mandate")).text
    assert said in mine
    assert "at least 1,400\xa0EUR" in mine
    http = client_as(kam)
    http.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ru"
    assert (
        "запрошено 250\xa0000,50\xa0€, разрешено 100\xa0000\xa0€"
        in http.get(reverse("governance:exception-detail", args=[asked.pk])).text
    )
