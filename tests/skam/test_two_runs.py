"""Two `make run` on one machine: the demo's webhook receiver follows the run's port (PORT + 765,
or WEBHOOK_PORT), the demo's endpoint points at it, and two receivers listen side by side,
started as `make run` starts them (the Makefile's variables, the Procfile's command)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import override_settings

from governance.models import WebhookEndpoint
from governance.webhooks import (
    EVENT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_of,
)
from skam.demo import DEMO_WEBHOOK_SECRET, demo_webhook_point, demo_webhook_url
from tests.embedded import BASE_DIR, MANAGE, Service, embedded_env, free_port

STARTUP_TIMEOUT = 30


def make_run(*variables: str) -> list[str]:
    """The commands `make run` would run with these variables, as the Makefile writes them."""
    dry_run = subprocess.run(
        ["make", "-n", "run", *variables], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert dry_run.returncode == 0, dry_run.stderr
    return [line for line in dry_run.stdout.splitlines() if "manage.py" in line or "honcho" in line]


def receiver_port(line: str) -> int:
    match = re.search(r"(?:^|\s)SKAM_DEMO_WEBHOOK_PORT=(\d+)\s", line)
    assert match, line
    return int(match.group(1))


@pytest.mark.parametrize(
    ("variables", "port"),
    [((), 8765), (("PORT=8001",), 8766), (("PORT=8001", "WEBHOOK_PORT=9100"), 9100)],
)
def test_make_run_gives_the_receiver_a_port_of_its_own_run(
    variables: tuple[str, ...], port: int
) -> None:
    """Migrating, loading the demo and running the processes all see the same port."""
    lines = make_run(*variables)
    assert len(lines) == 3  # migrate, demo_load, honcho
    assert {receiver_port(line) for line in lines} == {port}


def test_the_procfile_starts_the_receiver_on_the_runs_port() -> None:
    command = procfile_command("webhooks")
    assert "8765" not in command  # the port comes from the run, not from the Procfile


def procfile_command(name: str) -> str:
    for line in (BASE_DIR / "Procfile.dev").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name} in Procfile.dev")


def deliver(port: int, event_id: str) -> int:
    body = json.dumps({"data": {"said": event_id}}).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/skam-events",
        data=body,
        headers={
            EVENT_HEADER: "decision.adopted",
            EVENT_ID_HEADER: event_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature_of(
                secret=DEMO_WEBHOOK_SECRET, timestamp=timestamp, body=body
            ),
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def start_receiver(run_port: int, var_dir: Path) -> tuple[int, Service]:
    """The receiver as `make run PORT=run_port` starts it: the Makefile's variables, the
    Procfile's command."""
    honcho = make_run(f"PORT={run_port}")[-1]
    mode = dict(re.findall(r"(?:^|\s)([A-Z_]+)=(\S+)", honcho.partition("honcho")[0]))
    mode.pop("PATH", None)
    args = shlex.split(procfile_command("webhooks"))
    assert args[:2] == ["python", "manage.py"]
    env = {**embedded_env(var_dir), **mode}
    process = subprocess.Popen(
        [sys.executable, MANAGE, *args[2:]],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return int(mode["SKAM_DEMO_WEBHOOK_PORT"]), Service(f"webhooks {run_port}", process)


def wait_listening(service: Service, port: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while f"127.0.0.1:{port}/" not in service.output:
        assert service.process.poll() is None, service.output
        assert time.monotonic() < deadline, service.output
        time.sleep(0.2)


@pytest.mark.smoke
def test_two_runs_each_have_their_own_receiver(tmp_path: Path) -> None:
    # Two runs whose receivers' ports (PORT + 765) are free on this machine.
    first, second = free_port(), free_port()
    services = []
    try:
        for run, webhook in ((first - 765, first), (second - 765, second)):
            port, service = start_receiver(run, tmp_path)
            services.append(service)
            assert port == webhook
        for service, port in zip(services, (first, second), strict=True):
            wait_listening(service, port)
        assert deliver(first, "first-run-event") == 200
        assert deliver(second, "second-run-event") == 200
        time.sleep(0.3)
        assert "first-run-event" in services[0].output, services[0].output
        assert "second-run-event" in services[1].output, services[1].output
        assert "No webhook receiver" not in services[0].output + services[1].output
    finally:
        for service in services:
            service.stop()


@pytest.mark.django_db
def test_the_demo_endpoint_points_at_this_runs_receiver(admin_user) -> None:
    with override_settings(SKAM_DEMO_WEBHOOK_PORT=8766):
        assert demo_webhook_url() == "http://127.0.0.1:8766/skam-events"
        demo = WebhookEndpoint.objects.create(
            name="CRM", url=demo_webhook_url(), secret=DEMO_WEBHOOK_SECRET, created_by=admin_user
        )
    other = WebhookEndpoint.objects.create(
        name="Real CRM", url="https://crm.example.com/hook", secret="s", created_by=admin_user
    )
    # The same checkout run again on another port: its demo_load points the endpoint there.
    with override_settings(SKAM_DEMO_WEBHOOK_PORT=8801):
        assert demo_webhook_point() is True
        assert demo_webhook_point() is False  # already there
    demo.refresh_from_db()
    other.refresh_from_db()
    assert demo.url == "http://127.0.0.1:8801/skam-events"
    assert other.url == "https://crm.example.com/hook"  # never anyone else's
