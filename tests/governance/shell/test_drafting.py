"""Drafting mandates in the product: the committee drafts a new mandate or a change to the one in
force, edits each part of the shell, compares it with the mandate in force and proposes it; the
vote puts it in force. Nobody drafts their own; the administrator and directors only read."""

from __future__ import annotations

import datetime
import html
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Client
from accounts.periods import next_quarter, quarter_label, quarter_start
from accounts.roles import Role
from governance.committee.proposals import proposal_close, vote_cast
from governance.models import (
    Budget,
    CommitteeMember,
    KpiTarget,
    Mandate,
    MandateAccount,
    MandateBudget,
    MandateStatus,
    MandateTeamMember,
    ProposalState,
    RelationshipMethod,
)
from governance.picker import PICKER_LIMIT
from governance.shell.drafting import TERMS, BudgetRow, Stage, mandate_draft_save, mandate_stage
from governance.shell.mandates import mandate_adopt
from tests.factories import (
    BudgetFactory,
    BudgetSpendFactory,
    ClientFactory,
    KpiFactory,
    KpiTargetFactory,
    UserFactory,
)
from tests.queries import SIGN_IN_QUERIES

pytestmark = pytest.mark.django_db

LIST = "/committee/mandates/drafting/"
DEADLINE = "2099-01-01T12:00"


@pytest.fixture
def in_force(kam, account_of_kam) -> Mandate:
    """kam's mandate in force: one account with a discount override, a team member, a method
    and a KPI target."""
    mandate = Mandate.objects.create(
        kam=kam,
        title="Key accounts 2026",
        valid_from=datetime.date(2026, 1, 1),
        valid_to=datetime.date(2027, 12, 31),
        max_discount_percent=Decimal(5),
        max_deal_value=Decimal(1_000_000),
    )
    MandateAccount.objects.create(
        mandate=mandate, client=account_of_kam, max_discount_percent=Decimal(8)
    )
    MandateTeamMember.objects.create(
        mandate=mandate, user=UserFactory(username="engineer"), role="Engineer"
    )
    mandate.methods.add(RelationshipMethod.objects.create(name="Quarterly business review"))
    KpiTargetFactory(mandate=mandate, kpi=KpiFactory(name="Revenue"), target=Decimal(500))
    return mandate_adopt(mandate=mandate)


@pytest.fixture
def draft(in_force, client_as, member) -> Mandate:
    """A change of kam's mandate, drafted by a member on the list page."""
    response = client_as(member).post(f"/committee/mandates/{in_force.pk}/copy/")
    assert response.status_code == 302
    return Mandate.objects.exclude(pk=in_force.pk).get()


@pytest.fixture
def seats(chair, member) -> list:
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role="sales_director",
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    return [chair, member]


def _form_data(mandate: Mandate, **changes: object) -> dict[str, object]:
    """The draft page's form as the page fills it, with ``changes`` on top."""
    accounts = list(mandate.accounts.order_by("client__name"))
    team = list(mandate.team.order_by("pk"))
    budgets = list(mandate.budgets.order_by("period", "client__name"))
    data: dict[str, object] = {
        "terms-title": mandate.title,
        "terms-valid_from": mandate.valid_from.isoformat(),
        "terms-valid_to": mandate.valid_to.isoformat() if mandate.valid_to else "",
        "terms-methods": [m.pk for m in mandate.methods.all()],
        "accounts-TOTAL_FORMS": len(accounts),
        "accounts-INITIAL_FORMS": len(accounts),
        "team-TOTAL_FORMS": len(team) + 2,
        "team-INITIAL_FORMS": len(team),
        "budgets-TOTAL_FORMS": len(budgets),
        "budgets-INITIAL_FORMS": len(budgets),
    }
    for i, budget in enumerate(budgets):
        data[f"budgets-{i}-client"] = budget.client_id
        data[f"budgets-{i}-period"] = budget.period.isoformat()
        data[f"budgets-{i}-allocated"] = str(budget.allocated)
    for name in (
        "max_discount_percent",
        "max_deal_value",
        "credit_limit",
        "max_payment_term_days",
        "budget_spend_without_approval",
    ):
        value = getattr(mandate, name)
        data[f"terms-{name}"] = "" if value is None else str(value)
        for i, account in enumerate(accounts):
            data[f"accounts-{i}-id"] = account.pk
            value = getattr(account, name)
            data[f"accounts-{i}-{name}"] = "" if value is None else str(value)
    for i, member in enumerate(team):
        data[f"team-{i}-id"] = member.pk
        data[f"team-{i}-user"] = member.user_id
        data[f"team-{i}-role"] = member.role
    data.update(changes)
    return data


# Who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "drafts"),
    [
        ("chair", 200, True),
        ("member", 200, True),
        ("kam", 200, False),
        ("director", 200, False),
        ("administrator", 200, False),
        ("outsider", 403, False),
    ],
)
def test_the_list_is_read_by_whom_it_concerns_and_drafted_by_the_committee(
    client_as, cast, in_force, who, status, drafts
):
    response = client_as(cast[who]).get(LIST)

    assert response.status_code == status
    if status == 200:
        assert in_force.title in response.text
        assert ('data-testid="draft-change"' in response.text) is drafts
        assert ('data-testid="draft-new"' in response.text) is drafts


def test_a_kam_lists_only_their_own_mandates(client_as, kam2, in_force):
    response = client_as(kam2).get(LIST)

    assert response.status_code == 200
    assert in_force.title not in response.text


def test_anonymous_is_sent_to_sign_in(client, in_force, draft):
    for url in (
        LIST,
        f"/committee/mandates/{draft.pk}/draft/",
        f"/committee/mandates/{draft.pk}/compare/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/login/")
    assert client.post(f"/committee/mandates/{in_force.pk}/copy/").status_code == 302
    assert Mandate.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("chair", 200, 302),
        ("member", 200, 302),
        ("kam", 200, 403),  # their own mandate: read, never drafted by them
        ("kam2", 404, 404),  # not theirs: not even its existence
        ("director", 200, 403),
        ("administrator", 200, 403),
        ("outsider", 403, 403),
    ],
)
def test_a_draft_is_read_by_whom_it_concerns_and_changed_by_the_committee_only(
    client_as, cast, draft, who, read, write
):
    url = f"/committee/mandates/{draft.pk}/draft/"
    http = client_as(cast[who])

    page = http.get(url)
    saved = http.post(url, _form_data(draft, **{"terms-title": "Changed"}))

    assert page.status_code == read
    if read == 200:
        assert ('data-testid="save-draft"' in page.text) is (write == 302)
    assert saved.status_code == write
    assert Mandate.objects.get(pk=draft.pk).title == ("Changed" if write == 302 else draft.title)


@pytest.mark.parametrize("who", ["kam", "director", "administrator", "outsider"])
def test_only_the_committee_creates_or_copies_drafts(client_as, cast, in_force, who):
    http = client_as(cast[who])

    new = http.post(
        "/committee/mandates/drafting/new/",
        {"kam": cast["kam2"].pk, "title": "New", "valid_from": "2027-01-01"},
    )
    copy = http.post(f"/committee/mandates/{in_force.pk}/copy/")

    assert new.status_code == 403
    assert copy.status_code in (403, 404)
    assert Mandate.objects.count() == 1


def test_a_member_who_is_also_a_kam_drafts_nobody_s_mandate_of_their_own(client_as, member, kam):
    member.groups.add(Group.objects.get(name=Role.KAM))
    own = mandate_adopt(
        mandate=Mandate.objects.create(
            kam=member, title="Mine", valid_from=datetime.date(2026, 1, 1)
        )
    )
    other = Mandate.objects.create(kam=kam, title="Theirs", valid_from=datetime.date(2026, 1, 1))
    http = client_as(member)

    page = http.get(LIST)
    copy = http.post(f"/committee/mandates/{own.pk}/copy/")
    new = http.post(
        "/committee/mandates/drafting/new/",
        {"kam": member.pk, "title": "Mine too", "valid_from": "2027-01-01"},
    )
    propose = http.get(f"/committee/mandates/{other.pk}/propose/")

    assert f'action="/committee/mandates/{own.pk}/copy/"' not in page.text
    assert copy.status_code == 403
    assert new.status_code == 400
    assert "Select a valid choice" in new.text
    assert propose.status_code == 200  # someone else's: theirs to propose
    assert Mandate.objects.filter(kam=member).count() == 1


# Creating and copying --------------------------------------------------------------------


def test_a_member_drafts_a_new_mandate_and_a_wrong_date_keeps_the_input(client_as, member, kam2):
    http = client_as(member)
    data = {"kam": kam2.pk, "title": "First mandate", "valid_from": "2027-01-01"}

    wrong = http.post("/committee/mandates/drafting/new/", {**data, "valid_to": "2026-12-31"})
    right = http.post("/committee/mandates/drafting/new/", data)

    assert wrong.status_code == 400
    assert "A mandate ends on or after the day it starts." in wrong.text
    assert 'value="First mandate"' in wrong.text
    draft = Mandate.objects.get()
    assert right.url == f"/committee/mandates/{draft.pk}/draft/"
    assert (draft.kam, draft.status, draft.title) == (kam2, MandateStatus.DRAFT, "First mandate")
    assert not draft.accounts.exists()


def test_a_change_starts_as_a_copy_of_the_mandate_in_force(in_force, draft, account_of_kam):
    assert draft.status == MandateStatus.DRAFT
    assert draft.kam_id == in_force.kam_id
    assert (draft.max_discount_percent, draft.max_deal_value) == (Decimal(5), Decimal(1_000_000))
    account = draft.accounts.get()
    assert (account.client, account.max_discount_percent) == (account_of_kam, Decimal(8))
    assert list(draft.team.values_list("user__username", "role")) == [("engineer", "Engineer")]
    assert list(draft.methods.values_list("name", flat=True)) == ["Quarterly business review"]
    assert list(draft.kpi_targets.values_list("kpi__name", "target")) == [("Revenue", Decimal(500))]
    # The mandate in force is untouched, and still in force.
    assert Mandate.objects.get(pk=in_force.pk).status == MandateStatus.IN_FORCE
    assert in_force.accounts.count() == 1 and in_force.kpi_targets.count() == 1


# Saving each part --------------------------------------------------------------------------


def test_a_member_saves_every_part_of_the_draft(client_as, member, draft, account_of_kam, kam2):
    added = ClientFactory(name="Baltic Grain")
    method = RelationshipMethod.objects.create(name="Joint planning")
    engineer = draft.team.get()
    analyst = UserFactory(username="analyst")
    data = _form_data(
        draft,
        **{
            "terms-title": "Key accounts 2027",
            "terms-valid_to": "2028-06-30",
            "terms-max_discount_percent": "6.5",
            "terms-methods": [method.pk],
            "accounts-0-max_discount_percent": "",
            "accounts-0-credit_limit": "300000",
            "add-clients": [added.pk],
            "team-0-role": "Lead engineer",
            "team-1-user": analyst.pk,
            "team-1-role": "Analyst",
        },
    )

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.valid_to, draft.max_discount_percent) == (
        "Key accounts 2027",
        datetime.date(2028, 6, 30),
        Decimal("6.5"),
    )
    assert list(draft.methods.values_list("name", flat=True)) == ["Joint planning"]
    accounts = {a.client_id: a for a in draft.accounts.all()}
    assert set(accounts) == {account_of_kam.pk, added.pk}
    assert accounts[account_of_kam.pk].max_discount_percent is None
    assert accounts[account_of_kam.pk].credit_limit == Decimal(300000)
    assert sorted(draft.team.values_list("user__username", "role")) == [
        ("analyst", "Analyst"),
        ("engineer", "Lead engineer"),
    ]
    assert draft.team.get(user__username="engineer").pk == engineer.pk

    removed = _form_data(draft, **{"accounts-0-DELETE": "on", "team-0-DELETE": "on"})
    client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", removed)

    assert list(draft.accounts.values_list("client__name", flat=True)) == ["Volga Steel Works JSC"]
    assert list(draft.team.values_list("user__username", flat=True)) == ["analyst"]


def test_bad_input_is_refused_with_its_reason_and_loses_nothing(client_as, member, draft):
    added = ClientFactory(name="Baltic Grain")
    analyst = UserFactory(username="analyst")
    data = _form_data(
        draft,
        **{
            "terms-title": "Key accounts 2027",
            "terms-max_discount_percent": "150",
            "accounts-0-max_deal_value": "-5",
            "add-clients": [added.pk],
            "team-1-user": analyst.pk,
            "team-1-role": "",
        },
    )

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 400
    text = response.text
    assert "The draft is not saved: correct what is marked below." in text
    assert "Ensure this value is less than or equal to 100." in text
    assert "Ensure this value is greater than or equal to 0." in text
    assert "Say which role this person plays." in text
    # What was typed comes back as typed.
    assert 'value="Key accounts 2027"' in text
    assert 'value="150"' in text
    assert f'value="{added.pk}" checked' in text  # still ticked to add
    assert f'<option value="{analyst.pk}" selected>' in text
    draft.refresh_from_db()
    assert draft.title == "Key accounts 2026"
    assert draft.accounts.count() == 1


def test_the_same_person_twice_in_the_team_is_refused(client_as, member, draft):
    engineer = draft.team.get()
    data = _form_data(draft, **{"team-1-user": engineer.user_id, "team-1-role": "Again"})

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 400
    assert "A person is named twice in the team: keep one row for each." in response.text
    assert draft.team.count() == 1


def test_the_kam_is_not_offered_as_a_member_of_their_own_team(client_as, member, draft, kam):
    data = _form_data(draft, **{"team-1-user": kam.pk, "team-1-role": "Lead"})

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 400
    assert not draft.team.filter(user=kam).exists()


def test_garbage_in_the_form_is_a_400_never_a_500(client_as, member, draft):
    data = _form_data(
        draft,
        **{
            "terms-valid_from": "soon",
            "accounts-TOTAL_FORMS": "x",
            "add-clients": ["abc"],
            "team-1-user": "999999",
        },
    )

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 400


def test_an_account_of_another_mandate_cannot_be_smuggled_in(client_as, member, draft, in_force):
    foreign = in_force.accounts.get()
    data = _form_data(draft, **{"accounts-0-id": foreign.pk, "accounts-0-credit_limit": "1"})

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 302
    assert MandateAccount.objects.get(pk=foreign.pk).credit_limit is None
    assert not draft.accounts.filter(credit_limit=1).exists()


def _save_queries(client_as, member, draft, accounts: int) -> int:
    clients = [ClientFactory() for _ in range(accounts)]
    people = [UserFactory() for _ in range(accounts)]
    MandateAccount.objects.bulk_create(MandateAccount(mandate=draft, client=c) for c in clients)
    MandateTeamMember.objects.bulk_create(
        MandateTeamMember(mandate=draft, user=p, role="Support") for p in people
    )
    methods = [RelationshipMethod.objects.create(name=f"Method {i} {accounts}") for i in range(3)]
    extra = [ClientFactory() for _ in range(accounts)]
    data = _form_data(
        draft, **{"terms-methods": [m.pk for m in methods], "add-clients": [c.pk for c in extra]}
    )
    before = draft.accounts.count()
    for i in range(draft.accounts.count()):
        data[f"accounts-{i}-credit_limit"] = "1000"
    for i in range(draft.team.count()):
        data[f"team-{i}-role"] = "Changed"
    http = client_as(member)
    with CaptureQueriesContext(connection) as queries:
        response = http.post(f"/committee/mandates/{draft.pk}/draft/", data)
    assert response.status_code == 302
    assert draft.accounts.filter(credit_limit=1000).count() == before
    assert draft.accounts.count() == before + accounts
    assert set(draft.team.values_list("role", flat=True)) == {"Changed"}
    return len(queries)


def test_saving_a_draft_costs_the_same_queries_for_two_rows_or_thirty(client_as, member, draft):
    few = _save_queries(client_as, member, draft, 2)
    many = _save_queries(client_as, member, draft, 30)

    assert few == many
    assert many <= 28


def test_the_draft_page_costs_a_fixed_number_of_queries(
    client_as, member, draft, django_assert_max_num_queries
):
    http = client_as(member)
    http.get(f"/committee/mandates/{draft.pk}/draft/")
    MandateAccount.objects.bulk_create(
        MandateAccount(mandate=draft, client=ClientFactory()) for _ in range(25)
    )
    MandateTeamMember.objects.bulk_create(
        MandateTeamMember(mandate=draft, user=UserFactory(), role="Support") for _ in range(10)
    )

    ClientFactory.create_batch(40)  # the register grows: the picker lists one page of it

    with django_assert_max_num_queries(16):
        response = http.get(f"/committee/mandates/{draft.pk}/draft/")

    assert response.status_code == 200
    assert response.text.count('data-testid="save-draft"') == 1
    assert response.text.count('data-testid="account-picker-row"') == PICKER_LIMIT


# The account picker ------------------------------------------------------------------------


def picker_url(draft: Mandate) -> str:
    return reverse("governance:mandate-draft-clients", args=[draft.pk])


def test_the_account_picker_finds_clients_with_their_status_and_coverage_a_page_at_a_time(
    client_as, member, draft, account_of_kam
):
    key = ClientFactory(name="Volga Steel", is_key=True, registration_number="7700000001")
    ClientFactory(name="Volga Grain")
    for n in range(PICKER_LIMIT + 2):
        ClientFactory(name=f"Amur Timber {n:02d}")
    http = client_as(member)

    found = http.get(picker_url(draft), {"q": "volga"}, headers={"HX-Request": "true"}).text
    assert found.count('data-testid="account-picker-row"') == 2
    assert "<html" not in found  # the picker alone
    steel = found.split("Volga Steel")[1].split("</tr>")[0]
    assert "Key client" in steel and "not evaluated yet" in steel
    assert f'value="{key.pk}"' in found
    # An account the draft names already is not offered again.
    named = http.get(picker_url(draft), {"q": account_of_kam.name}).text
    assert f'value="{account_of_kam.pk}"' not in named

    first = http.get(picker_url(draft), {"q": "amur"}).text
    assert first.count('data-testid="account-picker-row"') == PICKER_LIMIT
    assert "page=2" in first and "Page 1" in first
    second = http.get(picker_url(draft), {"q": "amur", "page": "2"}).text
    assert second.count('data-testid="account-picker-row"') == 2
    assert "Amur Timber 11" in second and "Amur Timber 00" not in second

    # What was ticked stays ticked across searches, above the new results.
    kept = http.get(picker_url(draft), {"q": "amur", "add-clients": [key.pk]}).text
    assert f'value="{key.pk}" checked' in kept.split('data-testid="chosen-accounts"')[1]


def test_the_account_picker_costs_the_same_queries_for_any_register(
    client_as, member, draft, django_assert_num_queries
):
    http = client_as(member)
    chosen = ClientFactory()
    http.get(picker_url(draft))
    # The search asks first whether a name holds the text (else it ranks the closest names).
    with django_assert_num_queries(SIGN_IN_QUERIES + 6) as few:
        http.get(picker_url(draft), {"q": "a", "add-clients": [chosen.pk]})
    ClientFactory.create_batch(60)
    with django_assert_num_queries(len(few)):
        http.get(picker_url(draft), {"q": "a", "add-clients": [chosen.pk], "page": "3"})


def test_the_account_picker_is_the_committees_and_refuses_nonsense(
    client_as, member, kam, director, draft
):
    assert client_as(kam).get(picker_url(draft)).status_code in (403, 404)
    assert client_as(director).get(picker_url(draft)).status_code == 403
    http = client_as(member)
    assert http.get(picker_url(draft), {"page": "x"}).status_code == 400
    assert http.get(picker_url(draft), {"page": "0"}).status_code == 400
    assert http.get(picker_url(draft), {"q": "x" * 201}).status_code == 400
    assert http.get(picker_url(draft), {"add-clients": ["abc"]}).status_code == 200


# Comparing -------------------------------------------------------------------------------


def test_the_comparison_shows_what_is_added_removed_and_changed_part_by_part(
    client_as, member, draft, account_of_kam, in_force
):
    added = ClientFactory(name="Baltic Grain")
    BudgetFactory(client=added, period=datetime.date(2026, 10, 1), allocated=Decimal(250000))
    Mandate.objects.filter(pk=draft.pk).update(
        max_discount_percent=Decimal(7), valid_to=datetime.date(2028, 12, 31)
    )
    MandateAccount.objects.create(mandate=draft, client=added)
    MandateAccount.objects.filter(mandate=draft, client=account_of_kam).update(
        max_discount_percent=Decimal(9)
    )
    draft.team.all().delete()
    KpiTarget.objects.filter(mandate=draft).update(target=Decimal(650))

    response = client_as(member).get(f"/committee/mandates/{draft.pk}/compare/")

    assert response.status_code == 200
    comparison = response.context["comparison"]
    terms = {str(line.label): line.change for line in comparison.terms}
    assert terms == {"title": "same", "valid from": "changed", "valid to": "changed"}
    limits = {str(line.label): (line.before, line.after, line.change) for line in comparison.limits}
    assert limits["Discount, %"] == (Decimal(5), Decimal(7), "changed")
    assert limits["Credit limit, RUB"] == (None, None, "same")  # a money limit says its currency
    accounts = {line.label.name: line for line in comparison.accounts}
    assert accounts["Baltic Grain"].change == "added"
    assert accounts["Baltic Grain"].budget == Decimal(250000)
    assert accounts[account_of_kam.name].change == "changed"
    assert [(d.before, d.after) for d in accounts[account_of_kam.name].details] == [
        (Decimal(8), Decimal(9))
    ]
    assert [(str(line.label), line.change) for line in comparison.team] == [
        (str(in_force.team.get().user), "removed")
    ]
    assert [line.change for line in comparison.methods] == ["same"]
    assert [(line.before, line.after, line.change) for line in comparison.targets] == [
        (Decimal(500), Decimal(650), "changed")
    ]
    assert "Discount, %: 8 → 9" in response.text
    assert 'data-testid="propose"' in response.text


def test_a_first_mandate_compares_as_everything_added(client_as, member, kam2, account_of_kam2):
    draft = Mandate.objects.create(kam=kam2, title="First", valid_from=datetime.date(2027, 1, 1))
    MandateAccount.objects.create(mandate=draft, client=account_of_kam2)

    response = client_as(member).get(f"/committee/mandates/{draft.pk}/compare/")

    assert "The KAM holds no mandate in force" in response.text
    assert [line.change for line in response.context["comparison"].accounts] == ["added"]


def test_the_comparison_costs_a_fixed_number_of_queries(
    client_as, member, draft, django_assert_max_num_queries
):
    http = client_as(member)
    kpi = KpiFactory()
    for quarter in (datetime.date(2027, 1, 1), datetime.date(2027, 4, 1)):
        KpiTargetFactory(mandate=draft, kpi=kpi, period=quarter)
    clients = [ClientFactory(is_key=True) for _ in range(25)]
    MandateAccount.objects.bulk_create(MandateAccount(mandate=draft, client=c) for c in clients)
    MandateBudget.objects.bulk_create(
        MandateBudget(mandate=draft, client=c, period=datetime.date(2027, 1, 1), allocated=10)
        for c in clients
    )
    BudgetFactory(client=clients[0], period=datetime.date(2027, 1, 1))

    with django_assert_max_num_queries(13):
        response = http.get(f"/committee/mandates/{draft.pk}/compare/")

    assert response.status_code == 200
    assert len(response.context["comparison"].accounts) == 26
    assert len(response.context["comparison"].budgets) == 25


@pytest.mark.parametrize(
    ("who", "status"),
    [("kam", 200), ("kam2", 404), ("director", 200), ("administrator", 200), ("outsider", 403)],
)
def test_the_comparison_is_read_by_whom_it_concerns(client_as, cast, draft, who, status):
    response = client_as(cast[who]).get(f"/committee/mandates/{draft.pk}/compare/")

    assert response.status_code == status
    if status == 200:
        assert 'data-testid="propose"' not in response.text


# Proposing, freezing, revising, adopting ---------------------------------------------------


def _propose(http, draft, **data):
    return http.post(
        f"/committee/mandates/{draft.pk}/propose/",
        {
            "title": "Grant the 2027 mandate",
            "rationale": "Wider discount",
            "deadline": DEADLINE,
            **data,
        },
    )


@pytest.mark.parametrize("who", ["kam", "director", "administrator", "outsider"])
def test_only_the_committee_proposes_a_draft(client_as, cast, draft, who):
    response = _propose(client_as(cast[who]), draft)

    assert response.status_code in (403, 404)
    assert not draft.proposals.exists()


def test_a_proposed_draft_is_frozen_and_the_vote_puts_it_in_force(
    client_as, seats, chair, member, draft, in_force
):
    http = client_as(member)
    form = http.get(f"/committee/mandates/{draft.pk}/propose/")
    assert "Grant mandate: Key accounts 2026" in form.text

    proposed = _propose(http, draft)

    proposal = draft.proposals.get()
    assert proposed.url == proposal.get_absolute_url()
    assert proposal.state == ProposalState.OPEN
    assert mandate_stage(draft) == Stage.PROPOSED
    page = http.get(f"/committee/mandates/{draft.pk}/draft/")
    assert 'data-testid="frozen"' in page.text
    assert 'data-testid="save-draft"' not in page.text
    assert 'data-testid="propose"' not in page.text
    changed = http.post(
        f"/committee/mandates/{draft.pk}/draft/", _form_data(draft, **{"terms-title": "X"})
    )
    assert changed.status_code == 302
    assert Mandate.objects.get(pk=draft.pk).title == "Key accounts 2026"
    again = _propose(http, draft)
    assert again.status_code == 302 and draft.proposals.count() == 1
    kam_list = client_as(in_force.kam).get(LIST).text
    assert "Before the committee" in kam_list
    assert 'data-testid="draft-change"' not in kam_list

    for voter in seats:
        vote_cast(proposal=proposal, member=voter, choice="for")
    proposal_close(proposal=proposal, early=True)

    assert Mandate.objects.get(pk=draft.pk).status == MandateStatus.IN_FORCE
    assert Mandate.objects.get(pk=in_force.pk).status == MandateStatus.SUPERSEDED


def test_a_rejected_draft_stays_on_record_and_is_revised_into_a_new_draft(
    client_as, seats, member, draft, in_force
):
    http = client_as(member)
    _propose(http, draft)
    proposal = draft.proposals.get()
    for voter in seats:
        vote_cast(proposal=proposal, member=voter, choice="against")
    proposal_close(proposal=proposal, early=True)
    assert mandate_stage(draft) == Stage.NOT_ADOPTED

    page = http.get(f"/committee/mandates/{draft.pk}/draft/")
    refused = http.post(
        f"/committee/mandates/{draft.pk}/draft/", _form_data(draft, **{"terms-title": "X"})
    )
    revised = http.post(f"/committee/mandates/{draft.pk}/copy/")

    assert "The committee did not adopt this draft" in page.text
    assert Mandate.objects.get(pk=draft.pk).title == "Key accounts 2026"
    assert refused.status_code == 302
    new = Mandate.objects.exclude(pk__in=[draft.pk, in_force.pk]).get()
    assert revised.url == f"/committee/mandates/{new.pk}/draft/"
    assert mandate_stage(new) == Stage.DRAFT
    assert new.accounts.count() == draft.accounts.count()
    listed = http.get(LIST).text
    assert "Not adopted" in listed and "Draft" in listed


def test_a_draft_being_proposed_shows_the_propose_page_errors_without_losing_input(
    client_as, member, draft
):
    response = _propose(client_as(member), draft, deadline="2000-01-01T00:00")

    assert response.status_code == 400
    assert "The deadline lies in the future." in response.text
    assert "Wider discount" in response.text
    assert not draft.proposals.exists()
    assert not Mandate.objects.get(pk=draft.pk).under_vote


# The API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees_draft"),
    [("member", True), ("director", True), ("administrator", True), ("kam", True), ("kam2", False)],
)
def test_drafts_are_read_in_the_api_as_on_the_pages(client_as, cast, draft, who, sees_draft):
    response = client_as(cast[who]).get("/api/mandates/", {"status": "draft"})

    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert (draft.pk in ids) is sees_draft


def test_the_list_names_each_kam_s_mandates_by_stage_in_a_fixed_number_of_queries(
    client_as, member, draft, django_assert_max_num_queries
):
    for _ in range(10):
        mandate_adopt(
            mandate=Mandate.objects.create(
                kam=UserFactory(role=Role.KAM), title="Other", valid_from=timezone.localdate()
            )
        )

    http = client_as(member)

    with django_assert_max_num_queries(5):
        response = http.get(LIST)

    assert response.status_code == 200
    assert response.text.count('data-testid="kam-mandates"') == 11


# Budgets the draft holds -------------------------------------------------------------------


def _budget_rows(data: dict[str, object], rows: list[tuple[int, datetime.date, str]]) -> None:
    """The draft form's budget table filled with ``rows`` (account, quarter, amount)."""
    data["budgets-TOTAL_FORMS"] = len(rows)
    for i, (client_id, period, amount) in enumerate(rows):
        data[f"budgets-{i}-client"] = client_id
        data[f"budgets-{i}-period"] = period.isoformat()
        data[f"budgets-{i}-allocated"] = amount


def test_a_draft_holds_budgets_compared_with_those_allocated_and_the_vote_allocates_them(
    client_as, seats, member, kam, in_force, account_of_kam
):
    """The draft starts with the budgets allocated to its key accounts; the committee changes
    one and adds another; the comparison says which; adopting the mandate allocates them
    through the budgets' service."""
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    this_quarter = quarter_start(timezone.localdate())
    next_one = next_quarter(this_quarter)
    allocated = BudgetFactory(client=account_of_kam, period=this_quarter, allocated=1000)
    BudgetSpendFactory(budget=allocated, amount=300, recorded_by=kam)
    http = client_as(member)
    http.post(f"/committee/mandates/{in_force.pk}/copy/")
    draft = Mandate.objects.exclude(pk=in_force.pk).get()
    assert [(b.client_id, b.period, b.allocated) for b in draft.budgets.all()] == [
        (account_of_kam.pk, this_quarter, 1000)
    ]
    page = http.get(f"/committee/mandates/{draft.pk}/draft/").text
    assert 'data-testid="draft-budget-rows"' in page and "Budget, RUB" in page

    data = _form_data(draft)
    _budget_rows(
        data, [(account_of_kam.pk, this_quarter, "1500"), (account_of_kam.pk, next_one, "800")]
    )
    saved = http.post(f"/committee/mandates/{draft.pk}/draft/", data)
    assert saved.status_code == 302
    assert sorted(draft.budgets.values_list("period", "allocated")) == [
        (this_quarter, 1500),
        (next_one, 800),
    ]

    compare = http.get(f"/committee/mandates/{draft.pk}/compare/")
    budgets = {str(line.label): line for line in compare.context["comparison"].budgets}
    changed = budgets[f"{account_of_kam.name} · {quarter_label(this_quarter)}"]
    added = budgets[f"{account_of_kam.name} · {quarter_label(next_one)}"]
    assert (changed.before, changed.after, changed.change) == (1000, 1500, "changed")
    assert (added.before, added.after, added.change) == (None, 800, "added")
    assert 'data-testid="compare-budgets"' in compare.text

    _propose(http, draft)
    proposal = draft.proposals.get()
    for voter in seats:
        vote_cast(proposal=proposal, member=voter, choice="for")
    proposal_close(proposal=proposal, early=True)

    assert sorted(
        Budget.objects.filter(client=account_of_kam).values_list("period", "allocated")
    ) == [(this_quarter, 1500), (next_one, 800)]


def test_a_drafted_budget_is_refused_below_spending_for_a_regular_client_or_twice(
    client_as, member, kam, draft, account_of_kam
):
    this_quarter = quarter_start(timezone.localdate())
    regular = ClientFactory(name="Plain Trading")
    MandateAccount.objects.create(mandate=draft, client=regular)
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)
    spent_from = BudgetFactory(client=account_of_kam, period=this_quarter, allocated=1000)
    BudgetSpendFactory(budget=spent_from, amount=300, recorded_by=kam)
    data = _form_data(draft)
    _budget_rows(
        data,
        [
            (account_of_kam.pk, this_quarter, "200"),
            (regular.pk, this_quarter, "50"),
            (account_of_kam.pk, this_quarter, "400"),
        ],
    )

    response = client_as(member).post(f"/committee/mandates/{draft.pk}/draft/", data)

    assert response.status_code == 400
    text = html.unescape(response.text)
    quarter = quarter_label(this_quarter)
    assert f"Volga Steel Works JSC, {quarter}: 300.00\N{NO-BREAK SPACE}RUB is spent already" in text
    assert "Plain Trading is not a key client: budgets are allocated to key clients only." in text
    assert f"Volga Steel Works JSC, {quarter}: one budget per account and quarter." in text
    assert not draft.budgets.filter(allocated__in=[200, 50, 400]).exists()

    http = client_as(member)
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = html.unescape(http.post(f"/committee/mandates/{draft.pk}/draft/", data).text)
    assert "Plain Trading — не ключевой клиент" in russian


def test_the_budgets_service_refuses_what_the_form_did_not_see(member, kam, draft):
    """A budget for an account removed meanwhile, or a quarter past: refused by the save."""
    stranger = ClientFactory(is_key=True)
    past = datetime.date(2020, 1, 1)
    with pytest.raises(ValidationError) as refused:
        mandate_draft_save(
            mandate=draft,
            by=member,
            terms={name: getattr(draft, name) for name in TERMS},
            method_ids=[],
            accounts=[],
            added_client_ids=[],
            team=[],
            budgets=[BudgetRow(client_id=stranger.pk, period=past, allocated=Decimal(5))],
        )
    messages = refused.value.message_dict["budgets"]
    assert any("is not an account of this draft" in m for m in messages)
    assert any("this quarter or a later one" in m for m in messages)


def test_a_draft_whose_budget_no_longer_holds_is_not_proposed(
    client_as, seats, member, kam, draft, account_of_kam
):
    """The client stopped being key after the budget was drafted: proposing says why, and
    nothing is put to the vote."""
    MandateBudget.objects.create(
        mandate=draft,
        client=account_of_kam,
        period=quarter_start(timezone.localdate()),
        allocated=Decimal(500),
    )
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=False)

    response = _propose(client_as(member), draft)

    assert response.status_code == 400
    assert "Volga Steel Works JSC is not a key client" in html.unescape(response.text)
    assert not draft.proposals.exists()
