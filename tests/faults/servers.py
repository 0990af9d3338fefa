"""Throwaway servers a fault test starts, stops and starts again: never the shared ones."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# Ports 6390-6399 are kept for these throwaway servers (the shared Redis is on 6379).
REDIS_PORTS = range(6390, 6400)


def free_port(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"No free port in {candidates}.")


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
