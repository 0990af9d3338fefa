"""Webhooks, the leaf every context tells its events through, built on the e-mail outbox's
pattern (``governance.mail``): a service emits an event in its own transaction
(``webhook_emit``), which writes the event and one delivery per endpoint that wants it; the
worker posts the deliveries after the commit (``webhooks_deliver_due``, every 30 s on the beat).

* Nothing is told that did not happen, nothing is lost: the rows commit or roll back with the
  event, and the worker reads only committed rows.
* Signed: ``X-SKAM-Signature: sha256=<hex>``, the HMAC-SHA256 with the endpoint's secret of
  ``<X-SKAM-Timestamp>.<body>`` (``signature_of``; a receiver checks it as
  ``signature_verify`` does, README "Webhooks").
* Retried: a delivery not answered 2xx is tried again with the outbox's backoff (30 s doubling
  to an hour) for about a day, then given up; the administrator may resend it. An endpoint
  failing ``SKAM_WEBHOOK_PAUSE_AFTER`` times in a row is paused (its deliveries wait) and the
  administrators are told by e-mail; resuming it sends what waited.
* Once per event: a delivery is claimed before it is sent and marked delivered once the
  endpoint answered. A worker killed between the answer and the mark sends it again, with the
  same ``X-SKAM-Event-Id``: receivers deduplicate on it.
* Only to the registered host: the address is resolved and checked (no link-local or metadata
  address ever; private and loopback ones only with ``SKAM_WEBHOOKS_ALLOW_PRIVATE``), the
  connection goes to the address checked, redirects are never followed (a 3xx is a failure),
  and the timeouts are 5 s to connect and 10 s to read.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.roles import Role
from governance.mail import BATCH_SIZE, CLAIM_FOR, MAX_ATTEMPTS, claim_due, mail_queue, retry_delay
from governance.models import (
    Budget,
    Decision,
    DeliveryState,
    EndpointState,
    ExceptionRequest,
    ExceptionState,
    Mandate,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-SKAM-Signature"
TIMESTAMP_HEADER = "X-SKAM-Timestamp"
EVENT_HEADER = "X-SKAM-Event"
EVENT_ID_HEADER = "X-SKAM-Event-Id"
# How old a timestamp a receiver accepts (a replayed delivery is older).
TOLERANCE = datetime.timedelta(minutes=5)
TIMEOUT = urllib3.Timeout(connect=5.0, read=10.0)
# A pass stops sending before its claim runs out, so no other worker takes a row being sent.
PASS_FOR = CLAIM_FOR - datetime.timedelta(minutes=1)
# Of a response, only the status is kept: the rest is not read past this.
READ_AT_MOST = 1024


# Emitting, in the event's transaction -------------------------------------------------------


def webhook_emit(*, type: WebhookEventType, payloads: Iterable[dict[str, object]]) -> int:
    """Store one event per payload (codes and ids, never prose) and queue a delivery of each to
    every endpoint that wants this type. Called inside the event's transaction (see
    ``_emit``). Returns the events stored."""
    return _emit([(type, payload) for payload in payloads])


def _emit(events: list[tuple[str, dict[str, object]]]) -> int:
    """One query to find the endpoints, then two inserts (the events, their deliveries);
    nothing more when no endpoint wants any of them. Paused endpoints are queued too: what
    waits for them is sent when they are resumed."""
    if not events:
        return 0
    endpoints = list(WebhookEndpoint.objects.values_list("pk", "events"))
    wanted = [
        (WebhookEvent(type=type, payload=payload), [pk for pk, types in endpoints if type in types])
        for type, payload in events
    ]
    wanted = [(event, to) for event, to in wanted if to]
    if not wanted:
        return 0
    WebhookEvent.objects.bulk_create(event for event, _to in wanted)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=endpoint, event=event)
        for event, to in wanted
        for endpoint in to
    )
    return len(wanted)


# What each event says: codes, ids, dates and amounts, which the receiver renders itself.


def webhook_decision_adopted(*, decision: Decision, key_status_changed: bool) -> int:
    """A decision adopted, and the client's new key status when the decision changed it."""
    proposal = decision.proposal
    events: list[tuple[str, dict[str, object]]] = [
        (
            WebhookEventType.DECISION_ADOPTED,
            {
                "decision": decision.pk,
                "proposal": proposal.pk,
                "proposal_type": proposal.type,
                "client": decision.client_id,
                "key_status": decision.key_status,
                "effective_date": decision.effective_date,
                "review_date": decision.review_date,
                "supersedes": proposal.supersedes_id,
            },
        )
    ]
    if key_status_changed:
        events.append(
            (
                WebhookEventType.KEY_STATUS_CHANGED,
                {
                    "client": decision.client_id,
                    "is_key": decision.key_status,
                    "decision": decision.pk,
                },
            )
        )
    return _emit(events)


def webhook_mandate_in_force(*, mandate: Mandate, superseded: Iterable[int]) -> int:
    """A mandate put in force, and the ones it ended (the KAM's mandate in force before)."""
    events: list[tuple[str, dict[str, object]]] = [
        (
            WebhookEventType.MANDATE_IN_FORCE,
            {
                "mandate": mandate.pk,
                "kam": mandate.kam_id,
                "valid_from": mandate.valid_from,
                "valid_to": mandate.valid_to,
            },
        )
    ]
    events += [
        (
            WebhookEventType.MANDATE_ENDED,
            {"mandate": pk, "kam": mandate.kam_id, "reason": "superseded", "by": mandate.pk},
        )
        for pk in superseded
    ]
    return _emit(events)


def _exception_payload(request: ExceptionRequest) -> dict[str, object]:
    return {
        "exception_request": request.pk,
        "client": request.client_id,
        "mandate": request.mandate_id,
        "kam": request.requested_by_id,
        "approver": request.approver,
    }


def webhook_exception_requested(*, request: ExceptionRequest) -> int:
    return _emit(
        [
            (
                WebhookEventType.EXCEPTION_REQUESTED,
                {
                    **_exception_payload(request),
                    "limits": [breach["limit"] for breach in request.breaches],
                    "respond_by": request.respond_by,
                },
            )
        ]
    )


def webhook_exception_decided(
    *, request: ExceptionRequest, by: User | None, approved: bool, proposal: int | None = None
) -> int:
    """``by``: the approver who decided; None when the committee decided it by its vote on
    ``proposal`` (its id, given as ``decided_in``)."""
    return _emit(
        [
            (
                WebhookEventType.EXCEPTION_DECIDED,
                {
                    **_exception_payload(request),
                    "state": ExceptionState.APPROVED if approved else ExceptionState.REJECTED,
                    "decided_by": by.pk if by is not None else None,
                    **({"decided_in": proposal} if proposal is not None else {}),
                },
            )
        ]
    )


def webhook_budgets_allocated(*, budgets: Iterable[Budget]) -> int:
    """One event per budget allocated, written together (a mandate's adoption allocates many)."""
    return _emit(
        [
            (
                WebhookEventType.BUDGET_ALLOCATED,
                {
                    "budget": budget.pk,
                    "client": budget.client_id,
                    "period": budget.period,
                    "allocated": budget.allocated,
                    "currency": settings.SKAM_CURRENCY,
                },
            )
            for budget in budgets
        ]
    )


def webhook_kpi_snapshot_taken(
    *, period: datetime.date, rows: int, computed_at: datetime.datetime
) -> int:
    return _emit(
        [
            (
                WebhookEventType.KPI_SNAPSHOT_TAKEN,
                {"period": period, "rows": rows, "computed_at": computed_at},
            )
        ]
    )


# Signing and checking ------------------------------------------------------------------------


def secret_make() -> str:
    return secrets.token_urlsafe(32)


def body_of(event: WebhookEvent) -> bytes:
    """The JSON posted for an event: the same bytes at every try."""
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "created": event.created_at.isoformat(),
            "data": event.payload,
        },
        cls=DjangoJSONEncoder,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def signature_of(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256, keyed by the secret, of ``<timestamp>.<body>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """The receiver's check (the README gives it without SKAM): the signature is the secret's
    over this timestamp and body, and the timestamp is within ``TOLERANCE`` of now."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent_at) > TOLERANCE.total_seconds():
        return False
    expected = signature_of(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, signature)


# Where a delivery may go ---------------------------------------------------------------------


class AddressRefused(ValueError):
    """The endpoint's address may not be posted to (a refusal, not an outage)."""


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why SKAM does not post to this address, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return _("a link-local, multicast or unspecified address (cloud metadata lives there)")
    if address.is_private or address.is_loopback:
        if settings.SKAM_WEBHOOKS_ALLOW_PRIVATE:
            return None
        return _("a private or loopback address (SKAM_WEBHOOKS_ALLOW_PRIVATE is off)")
    if address.is_reserved:
        return _("a reserved address")
    return None


def url_check(url: str) -> None:
    """Refuse an endpoint's URL that is not http(s) with a host, or whose host is an address
    SKAM does not post to (``ValidationError``). A name is checked again at every delivery,
    against what it resolves to then."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("An endpoint's URL is http:// or https:// with a host."))
    if parts.username or parts.password:
        raise ValidationError(_("An endpoint's URL holds no user name or password."))
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    refusal = address_refusal(literal)
    if refusal:
        raise ValidationError(
            _("SKAM does not post to %(address)s: %(why)s.") % {"address": literal, "why": refusal}
        )


def _resolve(host: str, port: int) -> str:
    """The address of the registered host that SKAM connects to: every address the name has
    must be allowed (a name pointing at one good and one metadata address is refused)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise OSError(f"cannot resolve {host}: {error}") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise AddressRefused(f"{host} resolves to {address}: {refusal}")
    return str(addresses[0])


def _post(*, endpoint: WebhookEndpoint, event: WebhookEvent) -> int:
    """Post the event to the endpoint's URL and return the status of the answer. The connection
    goes to the address checked (no second look-up that could answer otherwise); HTTPS checks
    the certificate against the registered host's name; no redirect is followed."""
    parts = urlsplit(endpoint.url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(host, port)
    body = body_of(event)
    timestamp = str(int(time.time()))
    headers = {
        "Host": parts.netloc.rpartition("@")[2],
        "Content-Type": "application/json",
        "User-Agent": "SKAM-Webhooks/1",
        EVENT_HEADER: event.type,
        EVENT_ID_HEADER: str(event.id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature_of(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    pool: urllib3.HTTPConnectionPool
    if https:
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=host, assert_hostname=host, cert_reqs="CERT_REQUIRED"
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers=headers,
            redirect=False,
            retries=False,
            timeout=TIMEOUT,
            preload_content=False,
            assert_same_host=False,
        )
        response.read(READ_AT_MOST)
        response.release_conn()
        return response.status
    finally:
        pool.close()


# Delivering, by the worker -------------------------------------------------------------------


def webhooks_deliver_due(*, now: datetime.datetime | None = None, limit: int = BATCH_SIZE) -> int:
    """Post the deliveries that are due to the active endpoints, batch after batch; returns how
    many were answered 2xx. An endpoint that fails is not tried again in the same pass: its
    other deliveries wait for the same next attempt."""
    delivered = 0
    started = time.monotonic()
    queued = WebhookDelivery.objects.filter(
        state=DeliveryState.QUEUED, endpoint__state=EndpointState.ACTIVE
    )
    while rows := claim_due(queued, now=now or timezone.now(), limit=limit):
        delivered += _deliver(rows, started=started)
        if len(rows) < limit or time.monotonic() - started > PASS_FOR.total_seconds():
            break
    return delivered


def _deliver(claimed: list[WebhookDelivery], *, started: float) -> int:
    deliveries = list(
        WebhookDelivery.objects.filter(pk__in=[row.pk for row in claimed])
        .select_related("endpoint", "event")
        .order_by("next_attempt_at", "event__created_at", "pk")
    )
    delivered = 0
    waiting: dict[int, datetime.datetime] = {}  # endpoints failed in this pass: their next try
    for delivery in deliveries:
        endpoint = delivery.endpoint
        if endpoint.pk in waiting or time.monotonic() - started > PASS_FOR.total_seconds():
            # Released, not tried: no attempt is counted.
            WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.QUEUED).update(
                next_attempt_at=waiting.get(endpoint.pk, timezone.now())
            )
            continue
        status: int | None = None
        try:
            status = _post(endpoint=endpoint, event=delivery.event)
        except AddressRefused as error:
            waiting[endpoint.pk] = _failed(delivery, status=None, error=str(error))
            continue
        except (OSError, urllib3.exceptions.HTTPError) as error:
            waiting[endpoint.pk] = _failed(delivery, status=None, error=repr(error))
            continue
        if 200 <= status < 300:
            _succeeded(delivery, status=status)
            delivered += 1
        else:
            error = "redirect not followed" if 300 <= status < 400 else ""
            waiting[endpoint.pk] = _failed(delivery, status=status, error=error)
    return delivered


def _succeeded(delivery: WebhookDelivery, *, status: int) -> None:
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.QUEUED).update(
        state=DeliveryState.DELIVERED,
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        last_status_code=status,
        last_error="",
        delivered_at=now,
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(consecutive_failures=0).update(
        consecutive_failures=0
    )


def _failed(delivery: WebhookDelivery, *, status: int | None, error: str) -> datetime.datetime:
    """Count the failed try, on the delivery and on its endpoint; pause the endpoint when it
    has failed too often in a row, and tell the administrators once. Returns the next try."""
    now = timezone.now()
    attempts = delivery.attempts + 1
    next_attempt = now + retry_delay(attempts)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, state=DeliveryState.QUEUED).update(
            attempts=attempts,
            state=DeliveryState.GAVE_UP if attempts >= MAX_ATTEMPTS else DeliveryState.QUEUED,
            next_attempt_at=next_attempt,
            last_attempt_at=now,
            last_status_code=status,
            last_error=error[:2000],
        )
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        paused = WebhookEndpoint.objects.filter(
            pk=delivery.endpoint_id,
            state=EndpointState.ACTIVE,
            consecutive_failures__gte=settings.SKAM_WEBHOOK_PAUSE_AFTER,
        ).update(state=EndpointState.PAUSED, paused_at=now)
        if paused:
            _tell_paused(delivery.endpoint, at=now)
    logger.warning(
        "Webhook %s to endpoint %s failed (attempt %d, status %s): %s",
        delivery.event_id,
        delivery.endpoint_id,
        attempts,
        status,
        error,
    )
    return next_attempt


def _tell_paused(endpoint: WebhookEndpoint, *, at: datetime.datetime) -> None:
    administrators = User.objects.filter(groups__name=Role.ADMINISTRATOR, is_active=True)
    with translation.override(settings.LANGUAGE_CODE):
        mail_queue(
            key=f"webhook-paused:{endpoint.pk}:{at.isoformat()}",
            recipients=list(administrators.order_by("pk")),
            subject=_("Webhook endpoint paused: %(name)s") % {"name": endpoint.name},
            body=ngettext(
                "The endpoint %(url)s failed %(count)d time in a row and is paused: its "
                "events wait. Resume it once it answers again, and they are sent.",
                "The endpoint %(url)s failed %(count)d times in a row and is paused: its "
                "events wait. Resume it once it answers again, and they are sent.",
                settings.SKAM_WEBHOOK_PAUSE_AFTER,
            )
            % {"url": endpoint.url, "count": settings.SKAM_WEBHOOK_PAUSE_AFTER},
            path=reverse("admin:governance_webhookendpoint_change", args=[endpoint.pk]),
        )


# The administrator's actions -----------------------------------------------------------------


def webhook_endpoints_pause(*, endpoints: QuerySet[WebhookEndpoint]) -> int:
    return endpoints.filter(state=EndpointState.ACTIVE).update(
        state=EndpointState.PAUSED, paused_at=timezone.now()
    )


def webhook_endpoints_resume(*, endpoints: QuerySet[WebhookEndpoint]) -> int:
    """Resume paused endpoints: what waited for them is sent at the next pass."""
    with transaction.atomic():
        ids = list(endpoints.filter(state=EndpointState.PAUSED).values_list("pk", flat=True))
        WebhookEndpoint.objects.filter(pk__in=ids).update(
            state=EndpointState.ACTIVE, paused_at=None, consecutive_failures=0
        )
        WebhookDelivery.objects.filter(endpoint_id__in=ids, state=DeliveryState.QUEUED).update(
            next_attempt_at=timezone.now()
        )
    return len(ids)


def webhook_deliveries_resend(*, deliveries: QuerySet[WebhookDelivery]) -> int:
    """Send these deliveries again from the start (the same event id: a receiver that has it
    already ignores it), at the next pass."""
    return deliveries.update(
        state=DeliveryState.QUEUED, attempts=0, next_attempt_at=timezone.now(), delivered_at=None
    )
