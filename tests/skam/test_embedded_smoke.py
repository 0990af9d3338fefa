"""The embedded default, for real: SQLite, the filesystem broker, runserver, a Celery worker and
beat, each in its own process with no DATABASE_URL or REDIS_URL in sight, started as `make run`
starts them (DEBUG off).

Every demo user logs in through the login form and opens every page; nobody may get a 5xx.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from accounts.models import Client, ClientFigure, ClientNeed, User
from criteria.models import USP
from skam.demo import DEMO_PASSWORD, DEMO_USERS
from tests.embedded import (
    BASE_DIR,
    MANAGE,
    Service,
    embedded_env,
    free_port,
    manage,
    manage_ok,
    rows_in,
    var_dir_with,
)

pytestmark = pytest.mark.smoke

VENV_BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 60
PAGES = (
    "/",
    "/clients/",
    "/clients/?q=a&segment=enterprise",
    "/clients/{id}/",
    "/clients/{id}/edit/",
    "/clients/{id}/needs/",
    "/clients/{id}/figures/",
    "/clients/imports/",
    "/ruler/",
    "/ruler/portfolio/",
    "/ruler/usps/",
    "/ruler/versions/1/",
    "/ruler/versions/2/",
    "/ruler/runs/1/",
    "/ruler/clients/{id}/",
    "/ruler/clients/{id}/coverage/",
    "/api/clients/",
    "/api/needs/",
    "/api/figures/",
    "/api/usps/",
    "/api/coverages/",
    "/api/rulers/",
    "/api/evaluations/",
    "/api/runs/",
    "/api/review-items/",
    "/api/fit-ratings/",
    "/api/proposals/",
    "/api/decisions/",
    "/committee/proposals/",
    "/committee/proposals/?state=adopted",
    "/committee/proposals/1/",
    "/committee/decisions/",
    "/committee/drift/",
    "/committee/dashboards/",
    "/committee/dashboards/account/{id}/",
    "/api/dashboards/portfolio/",
    "/api/dashboards/account/{id}/",
    "/committee/policy/",
    "/committee/my-mandate/",
    "/committee/mandates/",
    "/committee/exceptions/",
    "/committee/departments/",
    "/committee/incidents/",
    "/committee/incidents/?state=all",
    "/committee/incidents/1/",
    "/committee/incidents/new/",
    "/committee/playbook/",
    "/committee/absences/",
    "/committee/budgets/",
    "/api/exception-requests/",
    "/api/budgets/",
    "/api/spending/",
    "/api/department-requests/",
    "/api/situations/",
    "/api/incidents/",
    "/api/mandates/",
    "/api/escalation-tiers/",
    "/api/relationship-methods/",
    "/api/department-obligations/",
    "/committee/meetings/",
    "/committee/interests/",
    "/committee/kpis/entries/",
    "/committee/mandates/1/targets/",
    "/api/kpis/",
    "/api/kpi-targets/",
    "/api/kpi-entries/",
    "/api/kpi-snapshots/",
    "/api/schema/",
    "/api/docs/",
    "/admin/",
)
# What the demo loads, counted straight from the database file.
COUNTED = (Client, ClientFigure, ClientNeed, User, USP)


def counts(var_dir: Path) -> dict[str, int]:
    return rows_in(var_dir, *COUNTED)


def start(name: str, args: list[str], var_dir: Path) -> Service:
    process = subprocess.Popen(
        args,
        cwd=BASE_DIR,
        env=embedded_env(var_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Service(name, process)


def web_answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/login/", timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def wait_until_ready(base_url: str, services: dict[str, Service]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        for service in services.values():
            assert service.process.poll() is None, f"{service.name} died:\n{service.output}"
        if " ready." in services["worker"].output and web_answers(base_url):
            return
        time.sleep(0.5)
    report = "\n".join(f"--- {s.name}:\n{s.output}" for s in services.values())
    pytest.fail(f"the embedded default did not come up within {STARTUP_TIMEOUT} s:\n{report}")


@pytest.fixture(scope="module")
def loaded_var_dir(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_database: Path
) -> Path:
    var_dir = var_dir_with(migrated_sqlite_database, tmp_path_factory.mktemp("embedded-var"))
    assert "Demo company loaded." in manage_ok(var_dir, "demo_load")
    return var_dir


@pytest.fixture(scope="module")
def running(loaded_var_dir: Path) -> Iterator[tuple[str, dict[str, Service]]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    celery = str(VENV_BIN / "celery")
    services: dict[str, Service] = {}
    try:
        commands = {
            "web": [sys.executable, MANAGE, "runserver", "--noreload", f"127.0.0.1:{port}"],
            "worker": [celery, "-A", "skam", "worker", "--pool=solo", "--loglevel=INFO"],
            "beat": [celery, "-A", "skam", "beat", "--loglevel=INFO"],
        }
        for name, command in commands.items():
            services[name] = start(name, command, loaded_var_dir)
        wait_until_ready(base_url, services)
        yield base_url, services
    finally:
        for service in services.values():
            service.stop()


class Browser:
    """Keeps cookies like a browser; reports every status instead of raising on 4xx/5xx."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(
        self, path: str, data: dict[str, str] | None = None, language: str = "en"
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"Accept-Language": language}
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == name), "")

    def log_in(self, username: str, password: str) -> str:
        status, page = self.request("/login/")
        assert status == 200
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, "the login form has no CSRF token"
        assert self.cookie("csrftoken")
        status, home = self.request(
            "/login/",
            {
                "csrfmiddlewaretoken": match.group(1),
                "username": username,
                "password": password,
                "next": "",
            },
        )
        assert status == 200, f"logging in as {username} answered {status}"
        assert self.cookie("sessionid"), f"{username} got no session"
        return home


def test_demo_load_is_idempotent(loaded_var_dir: Path) -> None:
    before = counts(loaded_var_dir)
    assert before["Client"] == 200
    assert before["User"] >= len(DEMO_USERS)
    assert "already loaded; nothing changed" in manage_ok(loaded_var_dir, "demo_load")
    assert counts(loaded_var_dir) == before


def test_every_demo_user_opens_every_page(running: tuple[str, dict[str, Service]]) -> None:
    base_url, services = running
    admin = Browser(base_url)
    admin.log_in("admin", DEMO_PASSWORD)
    status, listing = admin.request("/api/clients/?format=json")
    assert status == 200
    any_client = json.loads(listing)["results"][0]["id"]
    status, proposals = admin.request("/api/proposals/?state=open&format=json")
    assert status == 200
    assert json.loads(proposals)["count"] >= 2, "the demo holds at least two open proposals"

    failures = []
    for demo in DEMO_USERS:
        browser = Browser(base_url)
        home = browser.log_in(demo.username, DEMO_PASSWORD)
        assert demo.first_name in home, f"{demo.username} is not logged in"
        # One of the user's own clients when they have any, and one that may not be theirs.
        status, own = browser.request("/api/clients/?format=json")
        client_ids = {any_client}
        if status == 200 and json.loads(own)["results"]:
            client_ids.add(json.loads(own)["results"][0]["id"])
        pages = sorted({page.format(id=pk) for page in PAGES for pk in client_ids})
        for page in pages:
            status, _body = browser.request(page)
            if status >= 500:
                failures.append(f"{demo.username} {page} -> {status}")
    assert not failures, "\n".join(failures) + "\n--- web:\n" + services["web"].output[-5000:]
    for service in services.values():
        assert service.process.poll() is None, f"{service.name} died:\n{service.output}"


@pytest.mark.parametrize(
    ("language", "nothing_here", "not_for_you"),
    [
        ("en", "Nothing here", "This is not open to your role"),
        ("ru", "Здесь ничего нет", "Это недоступно вашей роли"),
    ],
    ids=["en", "ru"],
)
def test_a_kam_opening_a_colleagues_client_sees_the_products_404(
    running: tuple[str, dict[str, Service]], language: str, nothing_here: str, not_for_you: str
) -> None:
    """`make run` runs with DEBUG off: the product's page, in the reader's language, never
    Django's debug page listing every URL pattern; its stylesheet is still served."""
    base_url, _services = running
    colleague = Browser(base_url)
    colleague.log_in("kam2", DEMO_PASSWORD)
    kam = Browser(base_url)
    kam.log_in("kam", DEMO_PASSWORD)
    _status, theirs = colleague.request("/api/clients/?format=json")
    not_mine = next(
        row["id"]
        for row in json.loads(theirs)["results"]
        if kam.request(f"/api/clients/{row['id']}/?format=json")[0] == 404
    )

    status, page = kam.request(f"/clients/{not_mine}/", language=language)
    assert status == 404
    assert nothing_here in page
    assert "URLconf" not in page and "DEBUG = True" not in page
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert stylesheet, page[:2000]
    assert kam.request(stylesheet.group(1))[0] == 200
    # The portfolio is the directors' and the committee's: the product's 403.
    status, page = kam.request("/committee/dashboards/", language=language)
    assert status == 403
    assert not_for_you in page and "Traceback" not in page


def test_the_secret_key_is_generated_into_the_var_dir(
    loaded_var_dir: Path, running: tuple[str, dict[str, Service]]
) -> None:
    assert len((loaded_var_dir / "secret_key").read_text().strip()) >= 50


def test_the_broker_lives_in_the_var_dir(
    loaded_var_dir: Path, running: tuple[str, dict[str, Service]]
) -> None:
    """kombu's exchange tables too: nothing of the broker's is written relative to the cwd."""
    assert (loaded_var_dir / "celery-broker" / "control" / "celery.exchange").exists()


def test_demo_load_refuses_someone_elses_database(
    tmp_path: Path, migrated_sqlite_database: Path
) -> None:
    var_dir_with(migrated_sqlite_database, tmp_path)
    manage_ok(
        tmp_path,
        "shell",
        "-c",
        "from accounts.models import User; User.objects.create_user('someone', password='x')",
    )

    refused = manage(tmp_path, "demo_load")
    assert refused.returncode != 0
    assert "not the demo's" in refused.stderr

    skipped = manage(tmp_path, "demo_load", "--if-empty")
    assert skipped.returncode == 0, skipped.stderr
    assert "Demo data not loaded" in skipped.stdout
    assert counts(tmp_path)["Client"] == 0
