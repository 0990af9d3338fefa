"""Load run of the committee voting through the production web server, with the invariants of
the votes checked at its end.

    python bench/voting.py --members 20 --seconds 60 --workers 4

Builds a committee of M members (PostgreSQL ``DATABASE_URL``, default the local server's
``skam_bench_voting`` database, created and migrated if missing) and a few open proposals,
starts gunicorn (``skam.wsgi``, production settings: DEBUG off, Redis for the cache when
``REDIS_URL`` is set) on a free port, signs every member in through the login form, and has each
member, in a thread of its own, vote on a proposal picked in turn (changing their vote each
time) for S seconds, with every tenth request a signed-in read of the proposal list. Then:

    voting members=M seconds=S requests=N rps=R vote_p50_ms=A vote_p95_ms=B read_p95_ms=C
        ratio=B/C errors=E

and the invariants, which fail the run when broken: every accepted vote is a stored row (no
vote lost or doubled), one current vote per member and proposal, each proposal's tally equal to
its stored current votes, and no vote stamped after its proposal's deadline.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

from benchlib import ensure_database, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skam_bench_voting"
PASSWORD = "bench voting password 1"
PROPOSALS = 3
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ["DJANGO_SETTINGS_MODULE"] = "skam.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    ensure_database(os.environ["DATABASE_URL"])
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def build(members: int) -> list[int]:
    """A fresh committee of ``members`` and ``PROPOSALS`` open proposals; their ids."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Client, User
    from accounts.roles import Role
    from governance.committee.proposals import proposal_create, proposal_open
    from governance.models import CommitteeMember, Proposal, Vote

    Vote.objects.all().delete()
    Proposal.objects.all().delete()
    CommitteeMember.objects.all().delete()
    Client.objects.filter(name__startswith="Bench voting ").delete()
    User.objects.filter(username__startswith="bench-member-").delete()
    users = []
    for number in range(members):
        user = User.objects.create_user(f"bench-member-{number}", password=PASSWORD)
        user.groups.add(Group.objects.get(name=Role.COMMITTEE_MEMBER))
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
        users.append(user)
    proposals = []
    for number in range(PROPOSALS):
        client = Client.objects.create(
            name=f"Bench voting {number}", registration_number=f"BENCH-VOTING-{number}"
        )
        draft = proposal_create(
            type="grant_key", title=f"Key {number}", rationale="Bench", by=users[0], client=client
        )
        deadline = timezone.now() + datetime.timedelta(days=1)
        proposals.append(proposal_open(proposal=draft, deadline=deadline).pk)
    return proposals


class Browser:
    """One signed-in member: a keep-alive connection and its cookies."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.connection.port}{path}"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, content

    def sign_in(self, username: str) -> None:
        status, page = self.request("GET", "/login/")
        found = CSRF.search(page)
        assert found, f"the sign-in page answered {status}: {page[:300]!r}"
        token = found.group(1).decode()
        status, _page = self.request(
            "POST",
            "/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert status == 302, f"sign-in of {username} answered {status}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    setup_django()
    proposals = build(args.members)
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
    }
    # Production settings serve hashed static files: collected once, outside the repository.
    env["STATIC_ROOT"] = str(Path(os.environ.get("TMPDIR", "/tmp")) / "skam-bench-static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [
            *(str(Path(sys.executable).parent / "gunicorn"), "skam.wsgi"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
            *("--log-level", "warning"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        results = run_load(port, args.members, proposals, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report(args, results, proposals)


def run_load(port: int, members: int, proposals: list[int], seconds: float) -> dict:
    votes_ms: list[float] = []
    reads_ms: list[float] = []
    accepted: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    browsers = []
    for number in range(members):
        browser = Browser(port)
        browser.sign_in(f"bench-member-{number}")
        browsers.append(browser)
    start = threading.Barrier(members + 1)
    stop_at: list[float] = []

    def member(number: int, browser: Browser) -> None:
        count = 0
        start.wait()
        while time.monotonic() < stop_at[0]:
            count += 1
            proposal = proposals[(number + count) % len(proposals)]
            path = f"/committee/proposals/{proposal}/"
            try:
                if count % 10 == 0:
                    began = time.monotonic()
                    status, _page = browser.request("GET", "/committee/proposals/")
                    with lock:
                        reads_ms.append((time.monotonic() - began) * 1000)
                    if status != 200:
                        errors.append(f"read {status}")
                    continue
                token = browser.cookies.get("csrftoken", "")
                choice = ("for", "against", "abstain")[count % 3]
                began = time.monotonic()
                status, _page = browser.request(
                    "POST", path, {"choice": choice, "csrfmiddlewaretoken": token}
                )
                with lock:
                    votes_ms.append((time.monotonic() - began) * 1000)
                    if status == 302:
                        accepted.append(proposal)
                    else:
                        errors.append(f"vote {status}")
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    errors.append(repr(error))
                browser.connection.close()

    threads = [
        threading.Thread(target=member, args=(number, browser))
        for number, browser in enumerate(browsers)
    ]
    for thread in threads:
        thread.start()
    stop_at.append(time.monotonic() + seconds)
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join()
    sessions = [browser.cookies.get("sessionid", "") for browser in browsers]
    return {
        "sessions": sessions,
        "elapsed": time.monotonic() - began,
        "votes_ms": votes_ms,
        "reads_ms": reads_ms,
        "accepted": accepted,
        "errors": errors,
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def report(args: argparse.Namespace, results: dict, proposals: list[int]) -> None:
    from django.conf import settings
    from django.db.models import Count

    from governance.committee.proposals import tally_of
    from governance.models import Proposal, Vote

    votes_ms, reads_ms = results["votes_ms"], results["reads_ms"]
    requests = len(votes_ms) + len(reads_ms)
    log(f"errors: {results['errors'][:5]}" if results["errors"] else "errors: none")
    broken = []
    stored = Vote.objects.filter(proposal_id__in=proposals).count()
    if stored != len(results["accepted"]):
        broken.append(f"{len(results['accepted'])} votes accepted, {stored} stored")
    doubled = (
        Vote.objects.filter(is_current=True)
        .values("proposal", "member")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    if doubled:
        broken.append(f"{doubled} members with two current votes on a proposal")
    for proposal in Proposal.objects.filter(pk__in=proposals):
        current = Vote.objects.filter(proposal=proposal, is_current=True).count()
        if tally_of(proposal).cast != current:
            broken.append(f"proposal {proposal.pk}: tally {tally_of(proposal).cast} != {current}")
        if Vote.objects.filter(proposal=proposal, cast_at__gt=proposal.deadline).exists():
            broken.append(f"proposal {proposal.pk}: a vote stamped after the deadline")
    log("invariants: " + ("; ".join(broken) if broken else "all hold"))
    vote_p95, read_p95 = p95(votes_ms), p95(reads_ms)
    log(
        f"voting members={args.members} seconds={results['elapsed']:.0f} requests={requests} "
        f"rps={requests / results['elapsed']:.1f} "
        f"vote_p50_ms={statistics.median(votes_ms):.0f} vote_p95_ms={vote_p95:.0f} "
        f"read_p95_ms={read_p95:.0f} ratio={vote_p95 / read_p95:.2f} "
        f"errors={len(results['errors'])}"
    )
    # Sign the members out: their sessions leave the database and the shared Redis.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in results["sessions"]:
        store(session_key=key).delete()
    if broken or results["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
