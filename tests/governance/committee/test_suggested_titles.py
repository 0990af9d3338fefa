"""The title the new-proposal flow suggests is the one SKAM says for the proposal: kept as
suggested, it is stored as data (no typed title) and every reader reads it in their own
language — a proposal opened in English reads in Russian to a Russian member on its page, in
the lists, the API, the letters and the board pack. A title the proposer changed stays as typed.
The same for the revisit page's "Revisit: <decision>": the decision it revisits is the data."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from accounts.models import Client, User
from criteria.models import RulerStatus, RulerVersion
from governance.committee.board_pack import board_pack_pdf
from governance.committee.meetings import agenda_build, meeting_create
from governance.committee.proposals import proposal_close, vote_cast
from governance.committee.proposing import title_suggested
from governance.models import (
    CommitteeMember,
    CommitteeRole,
    Decision,
    OutgoingMail,
    Proposal,
    ProposalType,
)
from tests.factories import (
    ClientFactory,
    DecisionFactory,
    ProposalFactory,
    UserFactory,
    meets_the_ruler,
)

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]

GRANT_EN = "Grant key status: Volga Steel"
GRANT_RU = "Присвоить статус ключевого: Volga Steel"


def _deadline() -> str:
    return (timezone.localtime() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")


def _question_url(question: str) -> str:
    return reverse("governance:proposal-new-question", args=[question])


@pytest.fixture
def volga(chair: User, member: User) -> Client:
    """A committee of two (the member reads and is written to in Russian), a ruler in force
    and a client that meets it."""
    for user, is_chair in ((chair, True), (member, False)):
        CommitteeMember.objects.create(
            user=user,
            committee_role=CommitteeRole.SALES_DIRECTOR,
            is_chair=is_chair,
            active_from=datetime.date(2025, 1, 1),
        )
    member.language = "ru"
    member.save(update_fields=["language"])
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    client = ClientFactory(name="Volga Steel")
    meets_the_ruler(client)
    return client


@pytest.fixture
def in_english(client_as, chair):
    http = client_as(chair)
    http.cookies["django_language"] = "en"
    return http


@pytest.fixture
def in_russian(client_as, member):
    http = client_as(member)
    http.cookies["django_language"] = "ru"
    return http


def _propose(http, question: str, client: Client, title: str | None = None) -> Proposal:
    """Propose through the page, sending the suggested title unless another is given."""
    url = _question_url(question)
    suggested = http.get(url, {"client": client.pk}).context["form"]["title"].value()
    answer = http.post(
        url,
        {
            "client": client.pk,
            "title": suggested if title is None else title,
            "rationale": "Meets the ruler",
            "deadline": _deadline(),
        },
    )
    assert answer.status_code == 302, answer.context["form"].errors
    return Proposal.objects.get(pk=int(answer.url.rstrip("/").rsplit("/", 1)[1]))


def test_the_suggestion_is_the_title_skam_says_in_the_proposer_s_language(
    in_english, in_russian, volga
) -> None:
    url = _question_url("grant_key")
    assert in_english.get(url, {"client": volga.pk}).context["form"]["title"].value() == GRANT_EN
    assert in_russian.get(url, {"client": volga.pk}).context["form"]["title"].value() == GRANT_RU
    page = in_english.get(url, {"client": volga.pk}).text
    assert "each member reads the title in their own language" in page


def test_proposed_in_english_with_the_suggestion_kept_it_reads_in_russian(
    in_english, in_russian, volga, member
) -> None:
    proposal = _propose(in_english, "grant_key", volga)

    assert (proposal.typed_title, proposal.title_is_auto) == ("", True)
    detail = in_russian.get(proposal.get_absolute_url()).text
    assert f"<h1>{GRANT_RU}</h1>" in detail
    listed = in_russian.get(reverse("governance:proposal-list"), {"state": "all"}).text
    assert GRANT_RU in listed and GRANT_EN not in listed
    assert GRANT_RU in in_russian.get("/").text  # waiting for the member's vote
    api = in_russian.get(f"/api/proposals/{proposal.pk}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert (api["title"], api["title_is_auto"]) == (GRANT_RU, True)
    rows = in_russian.get("/api/proposals/", HTTP_ACCEPT_LANGUAGE="ru").json()
    rows = rows["results"] if isinstance(rows, dict) else rows
    assert [row["title"] for row in rows] == [GRANT_RU]
    assert in_english.get(proposal.get_absolute_url()).text.count(GRANT_EN) >= 1
    letter = OutgoingMail.objects.get(key__startswith="proposal-opened", to=member.email)
    assert letter.subject == f"Новое предложение на голосование: {GRANT_RU}"


def test_the_board_pack_in_russian_says_a_kept_suggestion_in_russian(
    in_english, volga, chair
) -> None:
    _propose(in_english, "grant_key", volga)
    meeting = meeting_create(held_on=timezone.localdate(), title="Autumn session", by=chair)
    agenda_build(meeting=meeting)

    pdf, _pages = board_pack_pdf(meeting=meeting, kind="pack", language="ru")

    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert GRANT_RU in text and GRANT_EN not in text


def test_a_changed_title_stays_as_typed(in_english, in_russian, volga) -> None:
    proposal = _propose(in_english, "grant_key", volga, title="Grant key status: Volga Steel!")

    assert (proposal.typed_title, proposal.title_is_auto) == (
        "Grant key status: Volga Steel!",
        False,
    )
    assert (
        "<h1>Grant key status: Volga Steel!</h1>"
        in in_russian.get(proposal.get_absolute_url()).text
    )


def test_a_suggestion_made_in_russian_is_known_when_sent_in_english(
    in_english, in_russian, volga
) -> None:
    """Suggested in one language, the form sent after switching to the other: still SKAM's."""
    answer = in_english.post(
        _question_url("grant_key"),
        {
            "client": volga.pk,
            "title": f"  {GRANT_RU} ",
            "rationale": "Why",
            "deadline": _deadline(),
        },
    )
    assert answer.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.typed_title == ""
    with translation.override("en"):
        assert proposal.title == GRANT_EN


def test_a_seat_s_suggestion_kept_is_said_in_each_language(in_english, volga, member) -> None:
    newcomer = UserFactory(first_name="Ivan", last_name="Petrov")
    url = _question_url("seat_give")
    suggested = in_english.get(url, {"nominee": newcomer.pk}).context["form"]["title"].value()
    assert suggested == "Give a seat on the committee: Ivan Petrov"
    answer = in_english.post(
        url,
        {
            "nominee": newcomer.pk,
            "committee_role": CommitteeRole.SALES_DIRECTOR,
            "title": suggested,
            "rationale": "Why",
            "deadline": _deadline(),
        },
    )
    assert answer.status_code == 302
    proposal = Proposal.objects.get(nominee=newcomer)
    assert proposal.typed_title == ""
    with translation.override("ru"):
        assert proposal.title == title_suggested(question="seat_give", subject=newcomer)
        assert proposal.title != suggested


@pytest.fixture
def decision(in_english, volga, chair, member) -> Decision:
    grant = _propose(in_english, "grant_key", volga)
    for user in (chair, member):
        vote_cast(proposal=grant, member=user, choice="for")
    return proposal_close(proposal=grant, early=True).decision


def _revisit(http, decision: Decision, title: str | None = None) -> Proposal:
    url = reverse("governance:decision-revisit", args=[decision.pk])
    suggested = http.get(url, {"type": "revoke_key"}).context["form"]["title"].value()
    answer = http.post(
        f"{url}?type=revoke_key",
        {
            "client": decision.client_id,
            "title": suggested if title is None else title,
            "rationale": "Lost the tender",
            "deadline": _deadline(),
        },
    )
    assert answer.status_code == 302, answer.context["form"].errors
    return Proposal.objects.get(supersedes=decision)


def test_a_revisit_suggestion_kept_is_data_read_in_russian(
    in_english, in_russian, decision
) -> None:
    url = reverse("governance:decision-revisit", args=[decision.pk])
    form = in_english.get(url, {"type": "revoke_key"}).context["form"]
    assert form["title"].value() == f"Revisit: {GRANT_EN}"

    revisit = _revisit(in_english, decision)

    assert (revisit.typed_title, revisit.supersedes) == ("", decision)
    assert f"<h1>Пересмотр: {GRANT_RU}</h1>" in in_russian.get(revisit.get_absolute_url()).text
    api = in_russian.get(f"/api/proposals/{revisit.pk}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert (api["title"], api["supersedes"]) == (f"Пересмотр: {GRANT_RU}", decision.pk)


def test_a_changed_revisit_title_stays_as_typed(in_english, in_russian, decision) -> None:
    revisit = _revisit(in_english, decision, title="Volga lost the tender")

    assert revisit.typed_title == "Volga lost the tender"
    assert "<h1>Volga lost the tender</h1>" in in_russian.get(revisit.get_absolute_url()).text


def _list_queries(http) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = http.get(reverse("governance:proposal-list"), {"state": "all"}).text
    return len(queries), page


def test_the_list_says_revisit_titles_with_no_query_per_proposal(
    in_english, in_russian, decision, volga
) -> None:
    _revisit(in_english, decision)
    _list_queries(in_russian)  # warm the session
    few, page = _list_queries(in_russian)
    assert f"Пересмотр: {GRANT_RU}" in page
    for name in ("Kama", "Oka"):  # more revisits of more decisions: the same queries
        earlier = DecisionFactory(proposal__client=ClientFactory(name=name, is_key=True))
        ProposalFactory(
            type=ProposalType.REVOKE_KEY, title="", client=earlier.client, supersedes=earlier
        )
    many, page = _list_queries(in_russian)
    assert "Пересмотр: Присвоить статус ключевого: Oka" in page
    assert many == few
