"""Exception requests: a KAM asks to go past the mandate, the tier's approver decides once."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from governance.drift import clients_buying_decisions
from governance.models import (
    Approver,
    CommitteeMember,
    EscalationTier,
    ExceptionRequest,
    ExceptionState,
    Mandate,
    MandateAccount,
    Policy,
    PolicyStatus,
)
from governance.shell.exception_requests import (
    AlreadyDecided,
    exception_decide,
    exception_file,
    exception_withdraw,
)
from governance.shell.mandates import mandate_adopt
from governance.tasks import escalate_overdue_exceptions
from tests.factories import UserFactory


@pytest.fixture
def setup(kam, chair, member, account_of_kam):
    EscalationTier.objects.create(
        order=1, up_to_deal_value=5_000_000, approver=Approver.HEAD_OF_KAM
    )
    EscalationTier.objects.create(order=2, up_to_deal_value=None, approver=Approver.SALES_DIRECTOR)
    CommitteeMember.objects.create(
        user=chair,
        committee_role="executive_director",
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )
    CommitteeMember.objects.create(
        user=member, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
    )
    mandate = Mandate.objects.create(
        kam=kam,
        title="Mandate",
        valid_from=datetime.date(2025, 1, 1),
        max_discount_percent=Decimal(7),
        max_deal_value=Decimal(10_000_000),
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    return mandate_adopt(mandate=mandate)


def _file(kam, client, discount="9", deal="20000000"):
    return exception_file(
        kam=kam,
        client_id=client.pk,
        asked={"discount_percent": Decimal(discount), "deal_value": Decimal(deal)},
        justification="Three-year contract",
    )


@pytest.mark.django_db
def test_a_request_names_the_limits_passed_and_the_tier(kam, account_of_kam, setup):
    request = _file(kam, account_of_kam)
    assert request.approver == Approver.SALES_DIRECTOR
    assert [b["limit"] for b in request.breaches] == ["discount_percent", "deal_value"]
    assert request.state == ExceptionState.PENDING


@pytest.mark.django_db
def test_a_deal_within_the_mandate_needs_no_exception(kam, account_of_kam, setup):
    with pytest.raises(ValidationError, match="within your mandate"):
        _file(kam, account_of_kam, discount="5", deal="1000")
    assert not ExceptionRequest.objects.exists()


@pytest.mark.django_db
def test_approving_twice_or_after_a_withdrawal_is_impossible(kam, member, account_of_kam, setup):
    request = _file(kam, account_of_kam)
    exception_decide(request=request, by=member, approve=True)
    with pytest.raises(AlreadyDecided):
        exception_decide(request=request, by=member, approve=False)
    request.refresh_from_db()
    assert request.state == ExceptionState.APPROVED


@pytest.mark.django_db(transaction=True)
def test_two_approvers_acting_at_once_leave_one_decision(kam, chair, member, account_of_kam, setup):
    request = _file(kam, account_of_kam)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user, approve):
        try:
            barrier.wait()
            exception_decide(request=request, by=user, approve=approve)
            outcomes.append("decided")
        except AlreadyDecided:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(chair, True)),
        threading.Thread(target=act, args=(member, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["decided", "refused"]
    request.refresh_from_db()
    assert request.state in (ExceptionState.APPROVED, ExceptionState.REJECTED)


@pytest.mark.django_db
def test_only_the_tiers_approver_or_the_chair_decides(
    client_as, kam, chair, member, director, account_of_kam, setup
):
    small = _file(kam, account_of_kam, deal="1000000")  # head of KAM's tier: nobody holds it
    url = reverse("governance:exception-decide", args=[small.pk])
    assert client_as(member).post(url, {"decision": "approve"}).status_code == 403
    assert client_as(director).post(url, {"decision": "approve"}).status_code == 403
    assert client_as(chair).post(url, {"decision": "approve"}).status_code == 302
    small.refresh_from_db()
    assert (small.state, small.decided_by) == (ExceptionState.APPROVED, chair)


@pytest.mark.django_db
def test_the_kam_files_from_my_mandate_and_sees_the_state(client_as, kam, account_of_kam, setup):
    http = client_as(kam)
    response = http.post(
        reverse("governance:exception-new"),
        {"client": account_of_kam.pk, "discount_percent": "9", "justification": "Tender"},
        follow=True,
    )
    assert "Your exception request is filed with its approver." in response.text
    rows = response.text.split('data-testid="exception-requests"')[1]
    assert "Waiting for a decision" in rows
    empty = http.post(
        reverse("governance:exception-new"),
        {"client": account_of_kam.pk, "discount_percent": "9", "justification": " "},
        follow=True,
    )
    assert "Say why the deal is worth the exception." in empty.text
    assert ExceptionRequest.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("granted", "flagged"), [(2, False), (3, False), (4, True)])
def test_the_pattern_flag_fires_past_the_set_count_and_not_before(
    kam, member, account_of_kam, setup, granted, flagged
):

    Policy.objects.create(
        number=1, title="Policy", status=PolicyStatus.IN_FORCE, exceptions_flag_after=3
    )
    for _ in range(granted):
        exception_decide(request=_file(kam, account_of_kam), by=member, approve=True)
    rejected = _file(kam, account_of_kam)  # rejected ones do not count
    exception_decide(request=rejected, by=member, approve=False)

    found = list(clients_buying_decisions())

    assert (account_of_kam in found) is flagged
    if flagged:
        assert found[0].exceptions_granted == granted


@pytest.mark.django_db
def test_exceptions_granted_before_the_horizon_do_not_count(kam, member, account_of_kam, setup):

    for _ in range(5):
        exception_decide(request=_file(kam, account_of_kam), by=member, approve=True)
    ExceptionRequest.objects.update(decided_at=timezone.now() - datetime.timedelta(days=400))
    assert list(clients_buying_decisions()) == []


@pytest.mark.django_db
def test_an_unanswered_request_goes_one_tier_up_at_a_time(kam, chair, account_of_kam, setup):

    small = _file(kam, account_of_kam, deal="1000000")
    answered = _file(kam, account_of_kam, deal="2000000")
    exception_decide(request=answered, by=chair, approve=True)  # the tier's approver: the chair
    ExceptionRequest.objects.update(respond_by=timezone.now() - datetime.timedelta(hours=1))

    assert escalate_overdue_exceptions() == 1
    small.refresh_from_db()
    assert small.approver == Approver.SALES_DIRECTOR
    assert small.respond_by > timezone.now()
    assert escalate_overdue_exceptions() == 0  # not overdue any more

    ExceptionRequest.objects.filter(pk=small.pk).update(
        respond_by=timezone.now() - datetime.timedelta(hours=1)
    )
    escalate_overdue_exceptions()
    small.refresh_from_db()
    answered.refresh_from_db()
    assert small.approver == Approver.COMMITTEE
    assert answered.approver == Approver.HEAD_OF_KAM  # decided requests stay where they were


@pytest.mark.django_db
def test_a_request_escalated_meanwhile_is_refused_to_the_tier_it_left(
    kam, kam2, account_of_kam, setup
):
    """The service decides who may act, in the same update that acts: an approver whose page
    still showed the request is refused once it went up a tier; only the KAM who asked
    withdraws."""
    head = UserFactory()
    CommitteeMember.objects.create(
        user=head, committee_role=Approver.HEAD_OF_KAM, active_from=datetime.date(2025, 1, 1)
    )
    request = _file(kam, account_of_kam, deal="1000000")
    assert request.approver == Approver.HEAD_OF_KAM
    ExceptionRequest.objects.filter(pk=request.pk).update(approver=Approver.SALES_DIRECTOR)

    with pytest.raises(PermissionDenied, match="another tier"):
        exception_decide(request=request, by=head, approve=True)
    with pytest.raises(PermissionDenied, match="Only the KAM who asked"):
        exception_withdraw(request=request, by=kam2)
    request.refresh_from_db()
    assert request.state == ExceptionState.PENDING

    assert exception_withdraw(request=request, by=kam).state == ExceptionState.WITHDRAWN


@pytest.mark.django_db
def test_the_api_answers_409_to_a_request_decided_meanwhile_and_403_to_another_tier(
    kam, chair, member, account_of_kam, setup, client_as
):
    request = _file(kam, account_of_kam, deal="1000000")  # the head of KAM's tier: the chair
    decide = f"/api/exception-requests/{request.pk}/decide/"

    refused = client_as(member).post(decide, {"approve": True}, content_type="application/json")
    first = client_as(chair).post(decide, {"approve": True}, content_type="application/json")
    again = client_as(chair).post(decide, {"approve": False}, content_type="application/json")
    withdrawn = client_as(kam).post(f"/api/exception-requests/{request.pk}/withdraw/")

    assert refused.status_code == 403 and "another tier" in refused.json()["detail"]
    assert first.status_code == 200 and first.json()["state"] == ExceptionState.APPROVED
    assert again.status_code == 409 and "decided or withdrawn already" in again.json()["detail"]
    assert withdrawn.status_code == 409


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["form", "json"])
def test_a_decision_without_its_answer_is_a_400_not_a_refusal(
    kam, chair, account_of_kam, setup, client_as, encoding: str
):
    """DRF reads an absent boolean in form data as false: the request would be rejected by a
    client that forgot the field. The answer must be given."""
    request = _file(kam, account_of_kam, deal="1000000")
    decide = f"/api/exception-requests/{request.pk}/decide/"
    http = client_as(chair)
    if encoding == "form":
        answer = http.post(decide, {"comment": "Fine"})
    else:
        answer = http.post(decide, {"comment": "Fine"}, content_type="application/json")

    assert answer.status_code == 400
    assert "approve" in answer.json()
    request.refresh_from_db()
    assert request.state == ExceptionState.PENDING
    approved = http.post(decide, {"approve": "true", "comment": "Fine"})
    assert approved.status_code == 200 and approved.json()["state"] == ExceptionState.APPROVED
