"""Department obligations: a KAM logs a request, the owner fulfils it, late ones are counted."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.refusals import NotAllowed
from governance.models import DepartmentObligation, DepartmentRequest, Mandate, MandateAccount
from governance.shell.departments import (
    breaches_by_department,
    department_fulfil,
    department_request,
)
from governance.shell.mandates import NotInMandate, mandate_adopt
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logistics(kam, account_of_kam):
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=Decimal(5),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    return DepartmentObligation.objects.create(
        department="logistics",
        title="Urgent shipment",
        owner=UserFactory(username="logistics.head"),
        response_hours=24,
    )


def test_a_request_is_due_within_the_obligations_time(kam, account_of_kam, logistics):
    request = department_request(
        kam=kam, obligation=logistics, client_id=account_of_kam.pk, text="Ship by Friday"
    )
    assert abs((request.due_at - request.created_at) - datetime.timedelta(hours=24)) < (
        datetime.timedelta(seconds=5)
    )


def test_only_for_the_kams_own_accounts(kam, account_of_kam2, logistics):
    with pytest.raises(NotInMandate):
        department_request(kam=kam, obligation=logistics, client_id=account_of_kam2.pk, text="Ship")


def test_only_the_owner_fulfils_and_breaches_are_counted_per_department(
    kam, account_of_kam, logistics
):
    on_time, late, overdue = (
        department_request(kam=kam, obligation=logistics, client_id=account_of_kam.pk, text=t)
        for t in ("on time", "late", "overdue")
    )
    with pytest.raises(NotAllowed):
        department_fulfil(request=on_time, by=kam)
    department_fulfil(request=on_time, by=logistics.owner)
    DepartmentRequest.objects.filter(pk__in=[late.pk, overdue.pk]).update(
        due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    department_fulfil(request=late, by=logistics.owner)

    assert list(breaches_by_department()) == [
        {"department": "logistics", "requests": 3, "breaches": 2}
    ]


def test_pages_for_the_kam_the_owner_and_the_director(
    client_as, kam, director, member, account_of_kam, logistics
):
    client_as(kam).post(
        reverse("governance:department-request"),
        {"obligation": logistics.pk, "client": account_of_kam.pk, "text": "Ship by Friday"},
    )
    item = DepartmentRequest.objects.get()
    owner_page = client_as(logistics.owner).get(reverse("governance:departments"))
    assert "Ship by Friday" in owner_page.text and "Mark fulfilled" in owner_page.text
    client_as(logistics.owner).post(reverse("governance:department-fulfil", args=[item.pk]))
    item.refresh_from_db()
    assert item.fulfilled_at is not None
    board = client_as(director).get(reverse("governance:departments")).text
    assert 'data-testid="breaches"' in board
    assert client_as(kam).get(reverse("governance:departments")).status_code == 403
    mine = client_as(kam).get(reverse("governance:my-mandate")).text
    assert "Ship by Friday" in mine.split('data-testid="my-department-requests"')[1]
