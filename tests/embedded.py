"""SKAM's embedded default run in subprocesses, as `make run` runs it: SQLite and the filesystem
broker in a var directory of the test's, with no DATABASE_URL or REDIS_URL in sight (the smoke
tests, tests/skam/test_embedded_smoke.py; the evaluation on SQLite, tests/criteria/)."""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import models

BASE_DIR = Path(__file__).resolve().parents[1]
MANAGE = str(BASE_DIR / "manage.py")
DATABASE_FILE = "skam.sqlite3"
# Whatever points SKAM at a server or at production mode is removed: the embedded default only.
SERVER_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "STATIC_ROOT",
    "SKAM_LOCAL",
)


@functools.cache
def make_run_mode() -> dict[str, str]:
    """The variables `make run` starts its processes with, read from the Makefile itself."""
    dry_run = subprocess.run(
        ["make", "-n", "run"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )
    honcho = next(line for line in dry_run.stdout.splitlines() if "honcho" in line)
    mode = dict(re.findall(r"(?:^|\s)([A-Z_]+)=(\S+)", honcho.partition("honcho")[0]))
    mode.pop("PATH", None)
    return mode


def embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    env.update(
        make_run_mode(),
        SKAM_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="skam.settings",
        PYTHONUNBUFFERED="1",
        LANG="C.UTF-8",
    )
    return env


def manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        cwd=BASE_DIR,
        env=embedded_env(var_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage_ok(var_dir: Path, *args: str) -> str:
    result = manage(var_dir, *args)
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def database_migrated_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated as `make run` migrates it, once for the whole run: the
    migration takes a process a quarter of a minute, and gives the same file every time.
    Parallel workers (pytest-xdist) share their run's directory; the first to come migrates
    while the others wait on the lock, then find the file. A migration that fails leaves no
    file behind, and the next worker tries again (and fails the same way)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory; each worker's own is below it
    migrated = shared / "embedded-migrated"
    with open(shared / "embedded-migrated.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (migrated / DATABASE_FILE).exists():
            migrating = shared / f"embedded-migrating-{os.getpid()}"
            migrating.mkdir()
            manage_ok(migrating, "migrate", "--noinput")
            migrating.rename(migrated)
    return migrated / DATABASE_FILE


def var_dir_with(database: Path, var_dir: Path) -> Path:
    """``var_dir`` holding a copy of ``database``, as the embedded default's database."""
    shutil.copyfile(database, var_dir / DATABASE_FILE)
    return var_dir


def rows_in(var_dir: Path, *counted: type[models.Model]) -> dict[str, int]:
    """Rows of each model in ``var_dir``'s database, read by SQLite itself: a SKAM process to
    count them would take a second and a half to start, for the same COUNT(*)."""
    with closing(sqlite3.connect(var_dir / DATABASE_FILE)) as database:
        return {
            model.__name__: database.execute(
                f'SELECT COUNT(*) FROM "{model._meta.db_table}"'
            ).fetchone()[0]
            for model in counted
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    """A long-running subprocess whose combined output is collected by a reader thread."""

    name: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
