"""Webhooks: each service emits its event in its own transaction (rolled back with it), as
codes and ids; deliveries are signed so that a receiver can tell a forgery; the administrator
alone registers endpoints and sees the secret once. The delivery itself, against a real
receiver: ``test_webhook_delivery.py``."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Client
from governance.committee.proposals import proposal_close, proposal_create, proposal_open, vote_cast
from governance.kpis.snapshots import snapshot_quarter
from governance.models import (
    Approver,
    CommitteeMember,
    CommitteeRole,
    Decision,
    DeliveryState,
    EndpointState,
    EscalationTier,
    Mandate,
    MandateAccount,
    MandateStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from governance.shell.budgets import budget_allocate
from governance.shell.exception_requests import exception_decide, exception_file
from governance.shell.mandates import mandate_adopt
from governance.webhooks import (
    body_of,
    signature_of,
    signature_verify,
    url_check,
    webhook_emit,
)
from tests.factories import QUARTER

pytestmark = [pytest.mark.django_db]

EVERY_EVENT = list(WebhookEventType.values)


@pytest.fixture
def crm() -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name="CRM", url="https://crm.example.com/skam", secret="s3cret", events=EVERY_EVENT
    )


def told(event_type: str) -> list[dict]:
    return [
        event.payload
        for event in WebhookEvent.objects.filter(type=event_type).order_by("created_at")
    ]


# Signing ------------------------------------------------------------------------------------


def test_a_signature_verifies_and_a_forged_one_fails() -> None:
    body = b'{"id":"e1","type":"budget.allocated"}'
    now = str(int(time.time()))
    good = signature_of(secret="s3cret", timestamp=now, body=body)
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert signature_verify(secret="s3cret", timestamp=now, body=body, signature=good)
    forged = signature_of(secret="guessed", timestamp=now, body=body)
    assert not signature_verify(secret="s3cret", timestamp=now, body=body, signature=forged)
    # The body changed on the way, or the timestamp: the signature no longer holds.
    assert not signature_verify(secret="s3cret", timestamp=now, body=body + b" ", signature=good)
    later = str(int(now) + 1)
    assert not signature_verify(secret="s3cret", timestamp=later, body=body, signature=good)
    # A delivery replayed later than the tolerance is refused, however well signed.
    old = str(int(now) - 600)
    replayed = signature_of(secret="s3cret", timestamp=old, body=body)
    assert not signature_verify(secret="s3cret", timestamp=old, body=body, signature=replayed)
    assert not signature_verify(secret="s3cret", timestamp="soon", body=body, signature=good)


def test_the_body_holds_the_event_id_type_and_codes(crm) -> None:
    webhook_emit(
        type=WebhookEventType.BUDGET_ALLOCATED,
        payloads=[{"budget": 7, "period": datetime.date(2026, 10, 1), "allocated": Decimal(5)}],
    )
    event = WebhookEvent.objects.get()
    created = event.created_at.isoformat()
    assert (
        body_of(event)
        == (
            f'{{"created":"{created}","data":{{"allocated":"5","budget":7,"period":"2026-10-01"}},'
            f'"id":"{event.id}","type":"budget.allocated"}}'
        ).encode()
    )


# Where SKAM may post ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
        "ftp://crm.example.com/hook",
        "https://user:pass@crm.example.com/hook",
    ],
)
def test_metadata_link_local_and_odd_urls_are_refused_always(settings, url) -> None:
    settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = True
    with pytest.raises(ValidationError):
        url_check(url)


def test_private_and_loopback_addresses_only_with_the_setting(settings) -> None:
    settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1:8765/",
        "http://10.0.0.5/",
        "http://[::1]/",
        "http://192.168.1.2",
    ):
        with pytest.raises(ValidationError, match="SKAM_WEBHOOKS_ALLOW_PRIVATE"):
            url_check(url)
    url_check("https://crm.example.com/skam")  # a name is checked again at each delivery
    settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = True
    url_check("http://127.0.0.1:8765/")


# Emitting, at each service ------------------------------------------------------------------


def test_nothing_is_stored_when_no_endpoint_wants_the_event(django_assert_num_queries) -> None:
    WebhookEndpoint.objects.create(
        name="Only KPIs", url="https://a.example.com/", events=["kpi.snapshot_taken"]
    )
    with django_assert_num_queries(1):  # the endpoints, nothing else
        assert webhook_emit(type=WebhookEventType.BUDGET_ALLOCATED, payloads=[{"budget": 1}]) == 0
    assert not WebhookEvent.objects.exists()


def test_many_events_to_many_endpoints_take_three_queries(crm, django_assert_num_queries) -> None:
    WebhookEndpoint.objects.create(name="BI", url="https://b.example.com/", events=EVERY_EVENT)
    paused = WebhookEndpoint.objects.create(
        name="Paused", url="https://c.example.com/", events=EVERY_EVENT, state=EndpointState.PAUSED
    )
    with django_assert_num_queries(3):  # the endpoints, the events, their deliveries
        stored = webhook_emit(
            type=WebhookEventType.MANDATE_ENDED, payloads=[{"mandate": n} for n in range(50)]
        )
    assert stored == 50
    assert WebhookDelivery.objects.count() == 150
    # A paused endpoint's deliveries wait for it to be resumed.
    assert paused.deliveries.filter(state=DeliveryState.QUEUED).count() == 50


def test_a_budget_allocated_is_told_and_rolled_back_with_its_transaction(
    crm, chair, account_of_kam
) -> None:
    account_of_kam.is_key = True
    account_of_kam.save()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        budget_allocate(client=account_of_kam, period=QUARTER, allocated=Decimal(1000), by=chair)
        assert WebhookEvent.objects.count() == 1
        raise Undo
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()

    budget = budget_allocate(
        client=account_of_kam, period=QUARTER, allocated=Decimal("1500.50"), by=chair
    )
    budget_allocate(client=account_of_kam, period=QUARTER, allocated=Decimal(2000), by=chair)
    assert told("budget.allocated") == [
        {
            "budget": budget.pk,
            "client": account_of_kam.pk,
            "period": "2026-10-01",
            "allocated": allocated,
            "currency": "RUB",
        }
        for allocated in ("1500.50", "2000")
    ]
    assert crm.deliveries.count() == 2


@pytest.fixture
def committee(chair) -> None:
    CommitteeMember.objects.create(
        user=chair,
        committee_role=CommitteeRole.EXECUTIVE_DIRECTOR,
        is_chair=True,
        active_from=datetime.date(2025, 1, 1),
    )


def test_a_decision_adopted_and_the_key_status_it_changed_are_told(
    crm, chair, committee, account_of_kam
) -> None:
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    vote_cast(proposal=proposal, member=chair, choice="for")
    proposal_close(proposal=proposal, early=True)

    decision = Decision.objects.get(proposal=proposal)
    [adopted] = told("decision.adopted")
    assert adopted["proposal"] == proposal.pk
    assert adopted["proposal_type"] == "grant_key"
    assert adopted["client"] == account_of_kam.pk
    assert adopted["key_status"] is True
    assert adopted["decision"] == decision.pk
    assert told("client.key_status_changed") == [
        {"client": account_of_kam.pk, "is_key": True, "decision": decision.pk}
    ]


def test_a_decision_that_leaves_the_status_as_it_is_tells_no_change(
    crm, chair, committee, account_of_kam
) -> None:
    proposal = proposal_open(
        proposal=proposal_create(
            type="grant_key", title="Key", rationale="Why", by=chair, client=account_of_kam
        ),
        deadline=timezone.now() + datetime.timedelta(days=3),
    )
    vote_cast(proposal=proposal, member=chair, choice="for")
    Client.objects.filter(pk=account_of_kam.pk).update(is_key=True)  # key by the time it closes
    proposal_close(proposal=proposal, early=True)
    assert len(told("decision.adopted")) == 1
    assert told("client.key_status_changed") == []


def test_a_mandate_in_force_and_the_one_it_ended_are_told(crm, kam, account_of_kam) -> None:
    first = Mandate.objects.create(kam=kam, title="2025", valid_from=datetime.date(2025, 1, 1))
    mandate_adopt(mandate=first)
    second = Mandate.objects.create(kam=kam, title="2026", valid_from=datetime.date(2026, 1, 1))
    mandate_adopt(mandate=second)
    first.refresh_from_db()
    assert first.status == MandateStatus.SUPERSEDED
    assert [p["mandate"] for p in told("mandate.in_force")] == [first.pk, second.pk]
    assert told("mandate.ended") == [
        {"mandate": first.pk, "kam": kam.pk, "reason": "superseded", "by": second.pk}
    ]


def test_an_exception_requested_and_decided_are_told(crm, kam, member, account_of_kam) -> None:
    EscalationTier.objects.create(order=1, up_to_deal_value=None, approver=Approver.SALES_DIRECTOR)
    CommitteeMember.objects.create(
        user=member, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
    )
    mandate = Mandate.objects.create(
        kam=kam, title="M", valid_from=datetime.date(2025, 1, 1), max_discount_percent=Decimal(7)
    )
    MandateAccount.objects.create(mandate=mandate, client=account_of_kam)
    mandate_adopt(mandate=mandate)
    request = exception_file(
        kam=kam,
        client_id=account_of_kam.pk,
        asked={"discount_percent": Decimal(9)},
        justification="Three-year contract",
    )
    exception_decide(request=request, by=member, approve=False)

    [requested] = told("exception.requested")
    assert requested["exception_request"] == request.pk
    assert requested["limits"] == ["discount_percent"]
    assert requested["approver"] == Approver.SALES_DIRECTOR
    [decided] = told("exception.decided")
    assert (decided["state"], decided["decided_by"]) == ("rejected", member.pk)


def test_a_kpi_snapshot_taken_is_told(crm) -> None:
    snapshot_quarter(QUARTER)
    [taken] = told("kpi.snapshot_taken")
    assert taken["period"] == QUARTER.isoformat()
    assert set(taken) == {"period", "rows", "computed_at"}


# The administrator's pages ------------------------------------------------------------------


def test_the_administrator_registers_an_endpoint_and_sees_its_secret_once(
    client_as, administrator, settings
) -> None:
    settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = False
    http = client_as(administrator)
    refused = http.post(
        "/admin/governance/webhookendpoint/add/",
        {"name": "Metadata", "url": "http://169.254.169.254/", "events": ["budget.allocated"]},
    )
    assert refused.status_code == 200 and "SKAM does not post to" in refused.text
    answer = http.post(
        "/admin/governance/webhookendpoint/add/",
        {"name": "CRM", "url": "https://crm.example.com/skam", "events": ["budget.allocated"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert answer.status_code == 200
    assert len(endpoint.secret) >= 40 and endpoint.secret in answer.text
    assert "no-store" in answer["Cache-Control"]
    assert endpoint.created_by == administrator and endpoint.events == ["budget.allocated"]
    change = http.get(f"/admin/governance/webhookendpoint/{endpoint.pk}/change/")
    assert change.status_code == 200 and endpoint.secret not in change.text
    listing = http.get("/admin/governance/webhookendpoint/")
    assert endpoint.secret not in listing.text


def test_nobody_but_the_administrator_touches_endpoints_or_the_log(
    client_as, chair, member, director, kam, crm
) -> None:
    for user in (chair, member, director, kam):
        http = client_as(user)
        for path in (
            "/admin/governance/webhookendpoint/add/",
            f"/admin/governance/webhookendpoint/{crm.pk}/change/",
            "/admin/governance/webhookdelivery/",
        ):
            assert http.get(path).status_code in (302, 403), (user, path)
        http.post(
            f"/admin/governance/webhookendpoint/{crm.pk}/change/",
            {"name": "Mine", "url": "https://evil.example.com/", "events": EVERY_EVENT},
        )
    crm.refresh_from_db()
    assert (crm.name, crm.url) == ("CRM", "https://crm.example.com/skam")


def test_the_administrator_pauses_resumes_and_resends(client_as, administrator, crm) -> None:
    webhook_emit(type=WebhookEventType.BUDGET_ALLOCATED, payloads=[{"budget": 1}])
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(state=DeliveryState.GAVE_UP, attempts=30)
    http = client_as(administrator)
    log = http.get("/admin/governance/webhookdelivery/")
    assert log.status_code == 200 and "budget.allocated" in log.text
    http.post(
        "/admin/governance/webhookendpoint/",
        {"action": "pause", "_selected_action": [crm.pk]},
    )
    crm.refresh_from_db()
    assert crm.state == EndpointState.PAUSED
    http.post(
        "/admin/governance/webhookendpoint/",
        {"action": "resume", "_selected_action": [crm.pk]},
    )
    crm.refresh_from_db()
    assert crm.state == EndpointState.ACTIVE
    http.post(
        "/admin/governance/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.QUEUED, 0)
    # The log itself is read-only: nothing is added or changed by hand.
    assert http.get("/admin/governance/webhookdelivery/add/").status_code == 403
