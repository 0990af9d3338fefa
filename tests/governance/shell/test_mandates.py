"""The mandate check — the fool-proofing: every limit at, below and above its edge, overrides,
expiry, and one KAM never sees another's accounts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from governance.models import Approver, EscalationTier, Mandate, MandateAccount, MandateStatus
from governance.shell.mandates import NotInMandate, mandate_adopt, mandate_check
from tests.queries import USER_QUERIES

pytestmark = pytest.mark.django_db

LIMITS = {
    "discount_percent": Decimal("7.00"),
    "deal_value": Decimal("10000000.00"),
    "payment_term_days": Decimal(60),
    "credit": Decimal("20000000.00"),
}


@pytest.fixture
def tiers() -> None:
    EscalationTier.objects.create(
        order=1, up_to_deal_value=5_000_000, approver=Approver.HEAD_OF_KAM
    )
    EscalationTier.objects.create(
        order=2, up_to_deal_value=50_000_000, approver=Approver.SALES_DIRECTOR
    )
    EscalationTier.objects.create(order=3, up_to_deal_value=None, approver=Approver.COMMITTEE)


def _mandate(kam, clients, **dates) -> Mandate:
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts",
        valid_from=dates.get("valid_from", datetime.date(2026, 1, 1)),
        valid_to=dates.get("valid_to", datetime.date(2026, 12, 31)),
        max_discount_percent=LIMITS["discount_percent"],
        max_deal_value=LIMITS["deal_value"],
        credit_limit=LIMITS["credit"],
        max_payment_term_days=60,
        budget_spend_without_approval=Decimal(500_000),
    )
    for client in clients:
        MandateAccount.objects.create(mandate=mandate, client=client)
    return mandate_adopt(mandate=mandate)


DAY = datetime.date(2026, 11, 27)


@pytest.mark.parametrize("limit", list(LIMITS))
@pytest.mark.parametrize(
    ("delta", "within"), [(Decimal("-0.01"), True), (Decimal(0), True), (Decimal("0.01"), False)]
)
def test_every_limit_at_below_and_above_its_edge(kam, account_of_kam, tiers, limit, delta, within):
    _mandate(kam, [account_of_kam])
    asked = LIMITS[limit] + (delta if limit != "payment_term_days" else delta * 100)

    check = mandate_check(kam=kam, client_id=account_of_kam.pk, asked={limit: asked}, day=DAY)

    assert check.within_mandate is within
    assert [(b.limit, b.allowed, b.asked) for b in check.breaches] == (
        [] if within else [(limit, LIMITS[limit], asked)]
    )


def test_an_account_override_beats_the_mandate(kam, account_of_kam, tiers):
    mandate = _mandate(kam, [account_of_kam])
    MandateAccount.objects.filter(mandate=mandate).update(max_discount_percent=Decimal(10))

    ten = mandate_check(
        kam=kam, client_id=account_of_kam.pk, asked={"discount_percent": Decimal(10)}, day=DAY
    )
    eleven = mandate_check(
        kam=kam, client_id=account_of_kam.pk, asked={"discount_percent": Decimal(11)}, day=DAY
    )

    assert ten.within_mandate
    assert [(b.allowed, b.asked) for b in eleven.breaches] == [(Decimal(10), Decimal(11))]


def test_an_expired_mandate_grants_nothing(kam, account_of_kam, tiers):
    _mandate(kam, [account_of_kam], valid_to=datetime.date(2026, 6, 30))
    with pytest.raises(NotInMandate):
        mandate_check(kam=kam, client_id=account_of_kam.pk, asked={}, day=DAY)


def test_a_draft_mandate_grants_nothing(kam, account_of_kam):
    Mandate.objects.create(kam=kam, title="Draft", valid_from=datetime.date(2026, 1, 1))
    with pytest.raises(NotInMandate):
        mandate_check(kam=kam, client_id=account_of_kam.pk, asked={}, day=DAY)


def test_a_limit_never_set_is_zero(kam, account_of_kam, tiers):
    mandate = _mandate(kam, [account_of_kam])
    Mandate.objects.filter(pk=mandate.pk).update(credit_limit=None)
    check = mandate_check(kam=kam, client_id=account_of_kam.pk, asked={"credit": 1}, day=DAY)
    assert [(b.limit, b.allowed) for b in check.breaches] == [("credit", Decimal(0))]


@pytest.mark.parametrize(
    ("deal_value", "approver"),
    [(4_000_000, "head_of_kam"), (5_000_000, "head_of_kam"), (20_000_000, "sales_director"),
     (60_000_000, "committee")],
)  # fmt: skip
def test_escalation_follows_the_tiers(kam, account_of_kam, tiers, deal_value, approver):
    _mandate(kam, [account_of_kam])
    check = mandate_check(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9), "deal_value": Decimal(deal_value)},
        day=DAY,
    )
    assert check.escalate_to == approver


def test_a_new_mandate_supersedes_the_one_in_force(kam, account_of_kam, account_of_kam2):
    first = _mandate(kam, [account_of_kam])
    second = _mandate(kam, [account_of_kam2])
    first.refresh_from_db()
    assert (first.status, second.status) == (MandateStatus.SUPERSEDED, MandateStatus.IN_FORCE)


@pytest.fixture
def kams_mandates(kam, kam2, account_of_kam, account_of_kam2, tiers):
    today = datetime.date.today()
    dates = {"valid_from": today - datetime.timedelta(days=30), "valid_to": None}
    return _mandate(kam, [account_of_kam], **dates), _mandate(kam2, [account_of_kam2], **dates)


def test_api_answers_the_contract(client_as, kam, account_of_kam, kams_mandates):
    response = client_as(kam).post(
        "/api/mandate-check/",
        {"client": account_of_kam.pk, "discount_percent": "9", "deal_value": "20000000"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("within_mandate", "breaches", "escalate_to")} == {
        "within_mandate": False,
        "breaches": [
            {"limit": "discount_percent", "allowed": 7.0, "asked": 9.0},
            {"limit": "deal_value", "allowed": 10000000.0, "asked": 20000000.0},
        ],
        "escalate_to": "sales_director",
    }
    # The ladder from the tier that decides: by name, and where an unanswered request goes.
    assert [step["approver"] for step in body["escalation"]] == ["sales_director", "committee"]
    assert body["escalation"][0]["answer_within_days"] == 2
    assert body["answer_due"] is not None
    ok = client_as(kam).post(
        "/api/mandate-check/", {"client": account_of_kam.pk}, content_type="application/json"
    )
    assert ok.json() == {
        "within_mandate": True,
        "breaches": [],
        "escalate_to": None,
        "escalation": [],
        "answer_due": None,
    }


def test_a_kam_cannot_check_another_kams_account(client_as, kam, account_of_kam2, kams_mandates):
    api = client_as(kam).post(
        "/api/mandate-check/", {"client": account_of_kam2.pk}, content_type="application/json"
    )
    page = client_as(kam).post(
        reverse("governance:my-mandate"), {"client": account_of_kam2.pk, "discount_percent": "1"}
    )
    assert api.status_code == 404
    assert account_of_kam2.name not in page.text
    assert "Select a valid choice" in page.text


def test_bad_input_is_refused_with_a_message(client_as, kam, account_of_kam, kams_mandates):
    response = client_as(kam).post(
        "/api/mandate-check/",
        {"client": account_of_kam.pk, "discount_percent": "150"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "discount_percent" in response.json()


def test_my_mandate_page_checks_a_deal_over_htmx(client_as, kam, account_of_kam, kams_mandates):
    http = client_as(kam)
    page = http.get(reverse("governance:my-mandate")).text
    assert account_of_kam.name in page and "7 %" in page

    result = http.post(
        reverse("governance:my-mandate"),
        {"client": account_of_kam.pk, "discount_percent": "9"},
        headers={"HX-Request": "true"},
    ).text

    assert result.lstrip().startswith('<section class="card" id="mandate-check"')
    assert "Past your mandate" in result
    assert "Discount, %: asked 9, allowed 7" in result
    assert "Head of the KAM department" in result


def test_committee_sees_every_mandate_and_a_kam_only_their_own(
    client_as, chair, kam, kams_mandates
):
    listing = client_as(chair).get(reverse("governance:mandate-list"))
    assert listing.status_code == 200
    assert listing.text.count("Key accounts") == 2
    assert client_as(kam).get(reverse("governance:mandate-list")).status_code == 403
    other = kams_mandates[1]
    assert (
        client_as(kam).get(reverse("governance:mandate-detail", args=[other.pk])).status_code == 403
    )


# The ladder of two steps (the sales director, the committee): its tiers and today's absences,
# then for each step who holds it and their deputies (``approvers_for``), whatever the number
# of members.
LADDER_QUERIES = 7


def test_a_mandate_check_reads_the_account_in_one_query(
    client_as, kam, account_of_kam, kams_mandates, django_assert_num_queries
):
    """The KAM's account under the mandate in force, then the escalation tiers: nothing per
    account, team member or method of the mandate. It asks no permission: signing in costs the
    session and the user only. Past the mandate, the ladder: its tiers, today's absences, and
    who answers each of its steps (two here: the tier that decides and the committee above),
    never a query per member."""
    http = client_as(kam)
    with django_assert_num_queries(USER_QUERIES + 2 + LADDER_QUERIES):
        response = http.post(
            "/api/mandate-check/",
            {"client": account_of_kam.pk, "discount_percent": "9"},
            content_type="application/json",
        )
    assert response.json()["within_mandate"] is False
