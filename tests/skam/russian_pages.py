"""The Russian demo's pages as its readers open them, and what share of their letters is
Cyrillic: shared by the tests (tests/skam/test_russian_demo.py, the layout's browser test) and
the measure a person runs (bench/cyrillic.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import Client, ImportBatch, User
from criteria.models import USP, EvaluationRun, RulerVersion
from governance.committee.proposing import QUESTIONS
from governance.models import (
    Decision,
    ExceptionRequest,
    Incident,
    Mandate,
    Meeting,
    Proposal,
)

# The pages each role opens first, every working day.
ROLE_PAGES = {
    "chair": [
        "/",
        "/clients/",
        "/committee/proposals/",
        "/committee/proposals/{proposal}/",
        "/committee/decisions/",
        "/committee/drift/",
        "/committee/policy/",
        "/committee/meetings/",
    ],
    "member": ["/", "/committee/proposals/", "/committee/decisions/", "/committee/interests/"],
    "kam": [
        "/",
        "/committee/my-mandate/",
        "/clients/",
        "/clients/{client}/",
        "/ruler/clients/{client}/",
        "/committee/incidents/",
        "/committee/playbook/",
    ],
    "director": ["/", "/committee/dashboards/", "/committee/mandates/", "/clients/"],
    "admin": ["/", "/clients/", "/ruler/", "/ruler/usps/", "/clients/imports/"],
}
# Every page a role may open, with the ids of the demo's rows filled in; a role's pages are those
# of these it is allowed to open.
ALL_PAGES = (
    "/",
    "/clients/",
    "/clients/?q=а&segment=enterprise&ordering=-name",
    "/clients/{client}/",
    "/clients/{client}/edit/",
    "/clients/{client}/needs/",
    "/clients/{client}/figures/",
    "/clients/imports/",
    "/ruler/",
    "/ruler/portfolio/",
    "/ruler/usps/",
    "/ruler/versions/{ruler}/",
    "/ruler/versions/{draft}/",
    "/ruler/runs/{run}/",
    "/ruler/clients/{client}/",
    "/ruler/clients/{client}/coverage/",
    "/committee/proposals/",
    "/committee/proposals/?state=adopted",
    "/committee/proposals/{proposal}/",
    "/committee/proposals/new/",
    "/committee/decisions/",
    "/committee/drift/",
    "/committee/dashboards/",
    "/committee/dashboards/account/{client}/",
    "/committee/policy/",
    "/committee/my-mandate/",
    "/committee/mandates/",
    "/committee/mandates/{mandate}/",
    "/committee/mandates/{mandate}/targets/",
    "/committee/exceptions/",
    "/committee/departments/",
    "/committee/incidents/",
    "/committee/incidents/?state=all",
    "/committee/incidents/{incident}/",
    "/committee/incidents/new/",
    "/committee/playbook/",
    "/committee/absences/",
    "/committee/budgets/",
    "/committee/meetings/",
    "/committee/meetings/{meeting}/",
    "/committee/interests/",
    "/committee/kpis/entries/",
    # Those of tests/test_permissions.py's MATRIX the above did not open.
    "/account/",
    "/account/password/",
    "/account/password/done/",
    "/clients/new/",
    "/clients/imports/{batch}/",
    "/ruler/usps/new/",
    "/ruler/usps/{usp}/",
    *(f"/committee/proposals/new/{question}/" for question in QUESTIONS),
    "/committee/decisions/{decision}/revisit/",
    "/committee/mandates/drafting/",
    "/committee/mandates/drafting/new/",
    "/committee/mandates/{mandate}/draft/",
    "/committee/mandates/{mandate}/compare/",
    "/committee/dashboards/kam/{kam}/",
    "/committee/exceptions/{exception}/",
    "/committee/record/",
    "/committee/record/?table=governance_decision",
    "/committee/meetings/new/",
    "/committee/meetings/{meeting}/minutes/",
    "/committee/meetings/{meeting}/packs/",
    "/committee/calendar/",
)
# The pages anyone opens before signing in; read as ``ANONYMOUS``, nobody signed in.
ANONYMOUS = "anonymous"
ANONYMOUS_PAGES = (
    "/login/",
    "/password/forgotten/",
    "/password/sent/",
    "/password/MQ/not-a-token/",
    "/password/done/",
)
# Who reads the pages: each role, and someone not signed in yet.
READERS = (*sorted(ROLE_PAGES), ANONYMOUS)
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN = re.compile(r"[A-Za-z]")


class _VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles or templates. With ``interface_only``, also
    none of what is marked as not being Russian prose: code (file headers, field names),
    anything in another language (the language switch's "English"), and what is in no
    language and marked not to be translated (a login, an e-mail address)."""

    HIDDEN = {"script", "style", "template", "noscript", "head"}
    VERBATIM = {"code", "kbd", "samp"}

    def __init__(self, *, interface_only: bool = False) -> None:
        super().__init__()
        self.interface_only = interface_only
        self.skipping: list[str] = []  # the tags whose content is being skipped, innermost last
        self.parts: list[str] = []

    def _skips(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in self.HIDDEN:
            return True
        if not self.interface_only:
            return False
        return (
            tag in self.VERBATIM
            or (tag != "html" and attrs.get("lang") not in (None, "ru"))
            or attrs.get("translate") == "no"
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if self.skipping:
            if tag == self.skipping[0]:
                self.skipping.append(tag)
            return
        if self._skips(tag, named):
            self.skipping.append(tag)
        elif named.get("placeholder"):
            self.parts.append(named["placeholder"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[0]:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str, *, interface_only: bool = False) -> str:
    parser = _VisibleText(interface_only=interface_only)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def cyrillic_share(text: str) -> float:
    cyrillic, latin = len(CYRILLIC.findall(text)), len(LATIN.findall(text))
    return cyrillic / (cyrillic + latin) if cyrillic + latin else 1.0


def demo_ids() -> dict[str, int]:
    """The rows the pages show: one of the KAM's key accounts, an open proposal…"""
    kam = User.objects.get(username="kam")
    return {
        "client": Client.objects.filter(owner_kam=kam, is_key=True).order_by("pk").first().pk,
        "proposal": Proposal.objects.filter(state="open").order_by("pk").first().pk,
        "ruler": RulerVersion.objects.filter(status="in_force").get().pk,
        "draft": RulerVersion.objects.filter(status="draft").order_by("pk").first().pk,
        "run": EvaluationRun.objects.order_by("-pk").first().pk,
        "mandate": Mandate.objects.filter(kam=kam, status="in_force").get().pk,
        "incident": Incident.objects.order_by("pk").first().pk,
        "meeting": Meeting.objects.order_by("pk").first().pk,
        "kam": kam.pk,
        "exception": ExceptionRequest.objects.order_by("pk").first().pk,
        "decision": Decision.objects.filter(client__isnull=False).order_by("pk").first().pk,
        "usp": USP.objects.order_by("pk").first().pk,
        # None where the demo is read without the client file the module checks.
        "batch": ImportBatch.objects.order_by("pk").values_list("pk", flat=True).first(),
    }


def russian_client(username: str) -> HttpClient:
    http = HttpClient()
    if username != ANONYMOUS:
        http.force_login(User.objects.get(username=username))
    http.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return http


def read_every_page() -> dict[str, dict[str, str]]:
    """Each reader's pages (those of ALL_PAGES a role may open; the anonymous reader's), as
    HTML, by URL, read in Russian."""
    fetched: dict[str, dict[str, str]] = {}
    ids = demo_ids()
    for username in READERS:
        http = russian_client(username)
        pages = fetched.setdefault(username, {})
        for template in ANONYMOUS_PAGES if username == ANONYMOUS else ALL_PAGES:
            if "{batch}" in template and ids["batch"] is None:
                continue  # no file was checked
            url = template.format(**ids)
            response = http.get(url)
            if response.status_code in (403, 404):
                continue  # not this reader's page
            if response.status_code != 200:
                raise AssertionError(f"{username} {url}: {response.status_code}")
            pages[url] = response.content.decode()
    return fetched
