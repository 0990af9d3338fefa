"""Webhooks against a real HTTP receiver on 127.0.0.1 (``http.server`` in a thread), posted by
the Celery task (run in-process): each event arrives accepted exactly once after the receiver
failed the first tries, with a signature the README's check accepts; a redirect is not
followed; a metadata address or a name resolving to this machine is not posted to; an endpoint
that keeps failing is paused and the administrators are told, and resuming it sends what
waited."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
import urllib3

from governance import webhooks
from governance.models import (
    DeliveryState,
    EndpointState,
    OutgoingMail,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from governance.tasks import deliver_webhooks
from governance.webhooks import webhook_emit, webhook_endpoints_resume

pytestmark = [pytest.mark.django_db]

SECRET = "receiver-secret"
START = datetime.datetime(2026, 11, 18, 9, 0, tzinfo=datetime.UTC)


def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
    """The README's check, word for word: what a receiver runs, without SKAM."""
    timestamp = headers["X-SKAM-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    fresh = abs(time.time() - int(timestamp)) <= tolerance
    return fresh and hmac.compare_digest(expected, headers["X-SKAM-Signature"])


@dataclass
class Receiver:
    """Answers ``fail_first`` requests with 500, then ``status`` (with ``location`` for a
    redirect); ``delay`` seconds before answering."""

    fail_first: int = 0
    status: int = 200
    location: str = ""
    delay: float = 0.0
    port: int = 0
    requests: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for headers, body, status in self.requests if status < 300]


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = 500 if len(receiver.requests) < receiver.fail_first else receiver.status
            receiver.requests.append((dict(self.headers), body, status))
            self.send_response(status)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def loopback_allowed(settings) -> None:
    settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = True


def endpoint_at(url: str, events: list[str] | None = None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name="CRM", url=url, secret=SECRET, events=events or list(WebhookEventType.values)
    )


def emit_three() -> None:
    webhook_emit(type=WebhookEventType.DECISION_ADOPTED, payloads=[{"decision": 1}])
    webhook_emit(type=WebhookEventType.BUDGET_ALLOCATED, payloads=[{"budget": 2}, {"budget": 3}])


def test_each_event_arrives_once_signed_after_the_receiver_failed_twice() -> None:
    with (
        receiving(Receiver(fail_first=2)) as receiver,
        time_machine.travel(START, tick=True) as clock,
    ):
        endpoint = endpoint_at(f"http://127.0.0.1:{receiver.port}/hooks?source=skam")
        emit_three()
        passes = [deliver_webhooks.apply().get()]
        for wait in (datetime.timedelta(seconds=31), datetime.timedelta(minutes=1, seconds=1)):
            clock.shift(wait)  # the backoff: 30 s, then a minute
            passes.append(deliver_webhooks.apply().get())
        # The receiver checks each delivery as it comes (the README's check, on its clock).
        accepted = receiver.accepted()
        assert all(verify(SECRET, headers, body) for headers, body in accepted)
        assert not any(verify("forged", headers, body) for headers, body in accepted)
        clock.shift(datetime.timedelta(hours=2))
        passes.append(deliver_webhooks.apply().get())  # nothing is posted twice
        # Two hours on, the same deliveries would be refused as replays.
        assert not any(verify(SECRET, headers, body) for headers, body in accepted)

    assert passes == [0, 0, 3, 0]
    # A failing receiver is tried once per pass, not once per waiting delivery.
    assert [status for _h, _b, status in receiver.requests] == [500, 500, 200, 200, 200]
    ids = [headers["X-SKAM-Event-Id"] for headers, _body in receiver.accepted()]
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert sorted(ids) == sorted(str(d.event_id) for d in deliveries)  # each exactly once
    for headers, body in accepted:
        assert headers["Content-Type"] == "application/json"
        assert headers["X-SKAM-Event"] in body.decode()
        assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert {d.state for d in deliveries} == {DeliveryState.DELIVERED}
    first = deliveries.get(attempts=3)
    assert (first.last_status_code, first.last_error) == (200, "")
    assert sorted(deliveries.values_list("attempts", flat=True)) == [1, 1, 3]
    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.consecutive_failures) == (EndpointState.ACTIVE, 0)


def test_a_redirect_to_another_host_is_not_followed() -> None:
    with (
        receiving(Receiver()) as elsewhere,
        receiving(Receiver(status=302, location=f"http://127.0.0.1:{elsewhere.port}/")) as first,
    ):
        endpoint_at(f"http://127.0.0.1:{first.port}/")
        emit_three()
        assert deliver_webhooks.apply().get() == 0
    assert len(first.requests) == 1 and elsewhere.requests == []
    tried = WebhookDelivery.objects.get(attempts=1)
    assert (tried.state, tried.last_status_code) == (DeliveryState.QUEUED, 302)
    assert tried.last_error == "redirect not followed"


def test_metadata_and_loopback_names_are_not_posted_to(settings) -> None:
    with receiving(Receiver()) as receiver:
        endpoint_at("http://169.254.169.254/latest/meta-data/", ["decision.adopted"])
        settings.SKAM_WEBHOOKS_ALLOW_PRIVATE = False
        endpoint_at(f"http://localhost:{receiver.port}/", ["budget.allocated"])  # resolves here
        emit_three()
        assert deliver_webhooks.apply().get() == 0
    assert receiver.requests == []
    errors = WebhookDelivery.objects.filter(attempts=1).values_list("last_error", flat=True)
    assert len(errors) == 2
    assert any("169.254.169.254" in error and "link-local" in error for error in errors)
    assert any("localhost resolves to" in error and "loopback" in error for error in errors)


def test_a_receiver_that_hangs_is_left_at_the_read_timeout(monkeypatch) -> None:
    monkeypatch.setattr(webhooks, "TIMEOUT", urllib3.Timeout(connect=0.5, read=0.3))
    with receiving(Receiver(delay=1.0)) as receiver:
        endpoint_at(f"http://127.0.0.1:{receiver.port}/", ["decision.adopted"])
        emit_three()
        started = time.monotonic()
        assert deliver_webhooks.apply().get() == 0
        assert time.monotonic() - started < 1.0
    assert "ReadTimeoutError" in WebhookDelivery.objects.get().last_error


def test_an_endpoint_that_keeps_failing_is_paused_and_the_administrators_told(
    settings, administrator
) -> None:
    settings.SKAM_WEBHOOK_PAUSE_AFTER = 3
    with (
        receiving(Receiver(status=503)) as receiver,
        time_machine.travel(START, tick=True) as clock,
    ):
        endpoint = endpoint_at(f"http://127.0.0.1:{receiver.port}/")
        emit_three()
        for _attempt in range(5):
            deliver_webhooks.apply().get()
            clock.shift(datetime.timedelta(minutes=5))
        endpoint.refresh_from_db()
        assert endpoint.state == EndpointState.PAUSED
        assert len(receiver.requests) == 3  # paused: no more tries
        [letter] = OutgoingMail.objects.filter(key__startswith=f"webhook-paused:{endpoint.pk}:")
        assert letter.to == administrator.email
        assert endpoint.url in letter.body and "/admin/governance/webhookendpoint/" in letter.body
        # What waited is sent once the endpoint is resumed and answers again.
        receiver.status = 200
        webhook_endpoints_resume(endpoints=WebhookEndpoint.objects.filter(pk=endpoint.pk))
        assert deliver_webhooks.apply().get() == 3
    assert OutgoingMail.objects.filter(key__startswith="webhook-paused:").count() == 1
