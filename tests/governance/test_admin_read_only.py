"""Every change in the Django admin goes through the services the pages use, or the admin is
read-only for that model. Budgets and incidents are read-only there, for the administrator and
for a superuser alike: a budget below what is spent or for a client that is not key, or an
incident closed by its own declarer, cannot be made through the admin."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from accounts.models import User
from governance.models import Approver, Budget, EscalationTier, Incident, IncidentState
from tests.factories import (
    BudgetFactory,
    BudgetSpendFactory,
    ClientFactory,
    SituationTypeFactory,
    UserFactory,
)

TODAY = datetime.date(2026, 11, 18)
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine(f"{TODAY}T12:00+03:00")]


@pytest.fixture(params=["administrator", "superuser"])
def staff(request: pytest.FixtureRequest, administrator: User) -> User:
    if request.param == "administrator":
        return administrator
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_no_budget_is_allocated_or_changed_in_the_admin(client_as, staff: User) -> None:
    spent = BudgetSpendFactory(amount=Decimal(60_000)).budget
    not_key = ClientFactory(is_key=False)
    http = client_as(staff)
    add = http.post(
        "/admin/governance/budget/add/",
        {"client": not_key.pk, "period": "2026-10-01", "allocated": "1", "_save": "Save"},
    )
    below_spent = http.post(
        f"/admin/governance/budget/{spent.pk}/change/",
        {"client": spent.client_id, "period": "2026-10-01", "allocated": "1", "_save": "Save"},
    )
    delete = http.post(f"/admin/governance/budget/{spent.pk}/delete/", {"post": "yes"})
    assert (add.status_code, below_spent.status_code, delete.status_code) == (403, 403, 403)
    spent.refresh_from_db()
    assert spent.allocated == Decimal(100_000)
    assert not Budget.objects.filter(client=not_key).exists()
    # Still shown to whoever follows budgets.
    assert http.get(f"/admin/governance/budget/{spent.pk}/change/").status_code == 200


def test_no_incident_is_declared_taken_or_closed_in_the_admin(
    client_as, staff: User, kam: User
) -> None:
    incident = Incident.objects.create(
        situation=SituationTypeFactory(owner=kam),
        client=ClientFactory(owner_kam=kam),
        declared_by=kam,
        owner=kam,
        description="Defects",
        respond_by=datetime.datetime(2026, 11, 19, 12, tzinfo=datetime.UTC),
    )
    http = client_as(staff)
    closed = http.post(
        f"/admin/governance/incident/{incident.pk}/change/",
        {
            "situation": incident.situation_id,
            "client": incident.client_id,
            "declared_by": kam.pk,
            "owner": kam.pk,
            "description": "Defects",
            "state": "closed",
            "resolution": "Closed it myself",
            "respond_by_0": "2026-11-19",
            "respond_by_1": "12:00:00",
            "_save": "Save",
        },
    )
    add = http.post("/admin/governance/incident/add/", {"_save": "Save"})
    delete = http.post(f"/admin/governance/incident/{incident.pk}/delete/", {"post": "yes"})
    assert (closed.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


def test_the_administrator_no_longer_allocates_budgets_on_the_page_or_the_api(
    client_as, administrator: User
) -> None:
    key = BudgetFactory().client
    data = {"client": key.pk, "period": "2026-10-01", "allocated": "5"}
    http = client_as(administrator)
    assert http.post("/committee/budgets/", data).status_code == 403
    assert http.post("/api/budgets/", data, content_type="application/json").status_code == 403
    assert Budget.objects.get(client=key).allocated == Decimal(100_000)


def test_nobody_moves_an_escalation_tier_in_the_admin(client_as, staff: User) -> None:
    """A tier's bound and approver decide who decides an exception: raising the head of KAM's
    bound past the committee's would take the committee out of large deals."""
    tier = EscalationTier.objects.create(
        order=1, up_to_deal_value=Decimal(5_000_000), approver=Approver.HEAD_OF_KAM
    )
    http = client_as(staff)
    change = http.post(
        f"/admin/governance/escalationtier/{tier.pk}/change/",
        {"order": 1, "up_to_deal_value": "999999999", "approver": Approver.HEAD_OF_KAM},
    )
    add = http.post(
        "/admin/governance/escalationtier/add/",
        {"order": 0, "up_to_deal_value": "", "approver": Approver.HEAD_OF_KAM},
    )
    delete = http.post(f"/admin/governance/escalationtier/{tier.pk}/delete/", {"post": "yes"})
    assert (change.status_code, add.status_code, delete.status_code) == (403, 403, 403)
    tier.refresh_from_db()
    assert tier.up_to_deal_value == Decimal(5_000_000)
    assert EscalationTier.objects.count() == 1
