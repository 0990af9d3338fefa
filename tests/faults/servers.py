"""Throwaway servers a fault test starts, stops and starts again: never the shared ones."""

from __future__ import annotations

import email
import email.message
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

# Ports 6390-6399 are kept for these throwaway servers (the shared Redis is on 6379).
REDIS_PORTS = range(6390, 6400)


def free_port(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"No free port in {candidates}.")


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections while the block runs: bound, never
    listening, so that no server another test starts meanwhile can take it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


class ThrowawayRedis:
    """A redis-server of our own on 127.0.0.1, without persistence, that a test may stop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                *(binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        """As a crash: SIGKILL, nothing saved."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    redis = ThrowawayRedis(free_port(REDIS_PORTS))
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


class RefusingMailServer:
    """An SMTP server's handler (aiosmtpd) that answers "451 try again later" to the first
    ``refuse_first`` letters, and "550" to any letter for an address in ``never``."""

    def __init__(self, *, refuse_first: int = 0, never: tuple[str, ...] = ()) -> None:
        self.refuse_first = refuse_first
        self.never = never
        self.tries = 0
        self.refused = 0
        self.received: list[email.message.Message] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.never:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.tries += 1
        if self.tries <= self.refuse_first:
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def mail_server(handler: RefusingMailServer) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread); yields its port."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    port = free_port(range(8025, 8100))
    controller = controller_module.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


VENV_BIN = Path(sys.executable).parent


@contextmanager
def celery_worker(*, database: str, broker: str, cache: str) -> Iterator[subprocess.Popen]:
    """A real prefork worker (two processes) in a session of its own, on this database and
    this broker; killed with SIGKILL (the whole session) when the block ends, if still alive."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": cache,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [
            *(str(VENV_BIN / "celery"), "-A", "skam", "worker", "--pool=prefork"),
            *("--concurrency=2", "--loglevel=WARNING", "--without-mingle", "--without-gossip"),
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        kill_session(worker)


def kill_session(process: subprocess.Popen) -> None:
    """SIGKILL to the process and its children: nothing is acknowledged, nothing cleaned up."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def celery_beat(*, database: str, broker: str, cache: str) -> Iterator[subprocess.Popen]:
    """A real beat (the settings' scheduler) in a session of its own; SIGKILLed at the end."""
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": cache,
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
    }
    beat = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "skam", "beat", "--loglevel=WARNING"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=os.environ.get("TMPDIR", "/tmp"),  # its pid and schedule files, not the repo's
    )
    try:
        yield beat
    finally:
        kill_session(beat)
