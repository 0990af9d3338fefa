"""A small webhook receiver for the demo: it listens on 127.0.0.1, checks each delivery's
signature as the README shows, keeps each event once (by its id) and prints it. ``make run``
starts it with the demo's secret, where the demo's endpoint points."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from governance.webhooks import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_verify,
)
from skam.demo import DEMO_WEBHOOK_SECRET


class Command(BaseCommand):
    help = "Receive SKAM's webhooks on 127.0.0.1, check their signatures and print each event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=settings.SKAM_DEMO_WEBHOOK_PORT,
            help="Where to listen (default: SKAM_DEMO_WEBHOOK_PORT, the demo endpoint's port).",
        )
        parser.add_argument(
            "--secret", default=DEMO_WEBHOOK_SECRET, help="The endpoint's secret (the demo's)."
        )
        parser.add_argument(
            "--fail-first",
            type=int,
            default=0,
            help="Answer 500 to this many deliveries first, to watch SKAM retry them.",
        )

    def handle(
        self, *args: object, port: int, secret: str, fail_first: int, **options: object
    ) -> None:
        seen: set[str] = set()
        failed = [0]
        write = self.stdout.write

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = self.headers.get(EVENT_ID_HEADER, "")
                if not signature_verify(
                    secret=secret,
                    timestamp=self.headers.get(TIMESTAMP_HEADER, ""),
                    body=body,
                    signature=self.headers.get(SIGNATURE_HEADER, ""),
                ):
                    write(f"refused {event_id}: the signature does not hold")
                    self._answer(401)
                    return
                if failed[0] < fail_first:
                    failed[0] += 1
                    write(f"failed {event_id} on purpose ({failed[0]} of {fail_first})")
                    self._answer(500)
                    return
                if event_id in seen:
                    write(f"duplicate {event_id}: already have it")
                else:
                    seen.add(event_id)
                    data = json.loads(body)["data"]
                    write(f"{self.headers.get(EVENT_HEADER)} {event_id} {json.dumps(data)}")
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            # Under `make run`, one process ending ends them all: the rest of SKAM goes on.
            self.stderr.write(f"No webhook receiver on port {port}: {error}")
            threading.Event().wait()
            return
        write(f"Receiving SKAM's webhooks on http://127.0.0.1:{port}/")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
