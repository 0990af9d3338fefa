"""The board pack and the minutes as PDF: they open, hold the agenda in order with each
proposal's frozen evidence, the drift panel's and the dashboard's figures as the pages show
them, and the minutes' tallies, named votes, recusals and digests; in English and Russian; drawn
up once by the worker; downloaded by whoever may see the meeting."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import User
from accounts.roles import Role
from criteria.models import RulerStatus, RulerVersion
from governance.committee.board_pack import (
    board_pack_generate,
    board_pack_pdf,
    board_pack_request,
)
from governance.committee.meetings import (
    agenda_build,
    agenda_item_add,
    attendance_record,
    meeting_create,
)
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    recuse,
    vote_cast,
)
from governance.models import (
    AgendaItem,
    AgendaKind,
    BoardPack,
    BoardPackState,
    CommitteeMember,
    Meeting,
    PortfolioSnapshot,
    Proposal,
    ProposalType,
)
from tests.factories import QUARTER, ClientFactory, FigureFactory, UserFactory, meets_the_ruler

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


def seat(user: User) -> User:
    CommitteeMember.objects.create(
        user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
    )
    return user


def opened(*, by: User, title: str) -> Proposal:
    client = ClientFactory(name=f"{title} Ltd")
    meets_the_ruler(client)
    return proposal_open(
        proposal=proposal_create(
            type=ProposalType.GRANT_KEY, title=title, rationale="Why", by=by, client=client
        ),
        deadline=timezone.now() + datetime.timedelta(days=7),
    )


@pytest.fixture
def sitting(chair: User, member: User) -> dict[str, object]:
    """A meeting: a vote closed (third stood aside; adopted), two still open, a free point,
    attendance recorded, and a portfolio snapshot for the KPI summary."""
    third = seat(UserFactory(username="third", role=Role.COMMITTEE_MEMBER))
    seat(chair), seat(member)
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    meeting = meeting_create(held_on=timezone.localdate(), title="Autumn session", by=chair)
    closed = opened(by=chair, title="Make Volga key")
    recuse(proposal=closed, member=third, reason="My brother runs their purchasing")
    vote_cast(proposal=closed, member=chair, choice="for", comment="Strategic fit")
    vote_cast(proposal=closed, member=member, choice="for")
    proposal_close(proposal=closed, early=True)
    AgendaItem.objects.create(meeting=meeting, order=0, kind=AgendaKind.PROPOSAL, proposal=closed)
    opened(by=member, title="Make Kama key")
    second_open = opened(by=member, title="Make Ural key")
    Proposal.objects.filter(pk=second_open.pk).update(
        deadline=timezone.now() + datetime.timedelta(days=9)
    )
    # A bet on a client our USPs cover only half: the cost of the mismatch is frozen with it.
    half = ClientFactory(name="Half covered Ltd")
    meets_the_ruler(half, degree="0.5")
    for quarter in (datetime.date(2025, 10, 1), *(datetime.date(2026, m, 1) for m in (1, 4, 7))):
        FigureFactory(client=half, period=quarter)
    bet = proposal_open(
        proposal=proposal_create(
            type=ProposalType.STRATEGIC_BET,
            title="Bet on Half",
            rationale="Why",
            by=member,
            client=half,
            review_date=datetime.date(2027, 6, 1),
        ),
        deadline=timezone.now() + datetime.timedelta(days=10),
    )
    agenda_build(meeting=meeting)
    agenda_item_add(meeting=meeting, text="Date of the next session")
    attendance_record(meeting=meeting, present_ids=[chair.pk, member.pk])
    PortfolioSnapshot.objects.create(
        period=QUARTER,
        clients=10,
        key_clients=3,
        total_revenue=Decimal(1000),
        key_revenue=Decimal(400),
        computed_at=timezone.now(),
    )
    ClientFactory(name="Legacy key client", is_key=True)  # drift: key with no decision
    return {"meeting": meeting, "closed": closed, "third": third, "bet": bet}


def ask(sitting: dict[str, object], by: User, kind: str = "pack") -> tuple[BoardPack, bool]:
    return board_pack_request(meeting=sitting["meeting"], kind=kind, language="en", by=by)


def read(sitting: dict[str, object], kind: str = "pack", language: str = "en") -> str:
    pdf, _pages = board_pack_pdf(meeting=sitting["meeting"], kind=kind, language=language)
    return flat(text_of(pdf))


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_pack_opens_with_the_agenda_in_order_and_each_proposal_s_evidence(sitting):
    pdf, pages = board_pack_pdf(meeting=sitting["meeting"], kind="pack", language="en")

    assert pdf.startswith(b"%PDF")
    text = flat(text_of(pdf))
    titles = [
        "Make Volga key",
        "Make Kama key",
        "Make Ural key",
        "Bet on Half",
        "Date of the next session",
    ]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)
    assert "Evidence, as it stood when the vote opened" in text
    assert "Quality" in text  # the ruler's breakdown, need by need
    assert "Earlier decisions on this client" in text
    assert f"1 / {pages}" in text  # page numbers
    cost = Decimal(sitting["bet"].evidence["mismatch_cost_per_quarter"])
    assert cost > 0
    assert f"Cost of the mismatch per quarter: {cost:,.0f}" in text
    assert "Gaps Quality — weight 5, met 50 %" in text


def test_the_pack_s_figures_are_the_pages_figures(sitting, client_as, chair):
    text = read(sitting)

    counts = client_as(chair).get(reverse("governance:drift")).context["counts"]
    assert {c.code: c.count for c in counts}["key-without-decision"] == 1
    for indicator in counts:  # every tile of the panel, with the panel's figure
        assert re.search(rf"{re.escape(indicator.title)} {indicator.count}\b", text), indicator.code

    board = client_as(chair).get(reverse("governance:dashboard-portfolio")).context["board"]
    assert board.headlines
    for headline in board.headlines:
        assert f"{headline.label} {headline.value.text}" in text


def test_the_minutes_hold_tallies_named_votes_recusals_and_digests(sitting, chair):
    closed = Proposal.objects.get(pk=sitting["closed"].pk)
    text = flat(
        text_of(board_pack_pdf(meeting=sitting["meeting"], kind="minutes", language="en")[0])
    )

    assert "Final tally: For 2 · Against 0 · Abstain 0" in text
    assert f"{chair} For Strategic fit" in text
    assert f"{sitting['third']} — My brother runs their purchasing" in text
    digest = closed.decision.digest
    assert digest and digest in text.replace(" ", "")
    assert "Tally so far" in text  # the votes still open


def test_the_pack_speaks_russian(sitting):
    text = read(sitting, language="ru")
    assert "Повестка" in text
    assert "Make Volga key" in text
    # The verdicts frozen when the votes opened (by English speakers) are said in Russian.
    assert "Соответствует линейке: наши УТП покрывают 100,0 %" in text
    assert "Не соответствует линейке: покрыто 50,0 % из 75,0 %" in text
    assert "Meets the ruler" not in text and "Does not meet" not in text


def test_the_worker_draws_it_up_once_and_keeps_it_with_the_meeting(
    sitting, chair, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    pack, enqueue = board_pack_request(
        meeting=sitting["meeting"], kind="pack", language="en", by=chair
    )
    assert enqueue and pack.state == BoardPackState.QUEUED
    assert ask(sitting, chair)[1] is False

    done = board_pack_generate(pack_id=pack.pk)
    assert board_pack_generate(pack_id=pack.pk) is None  # delivered twice, drawn up once

    assert done.state == BoardPackState.READY and done.pages >= 1
    with done.file.open("rb") as file:
        assert file.read(4) == b"%PDF"
    again, enqueue = board_pack_request(
        meeting=sitting["meeting"], kind="pack", language="en", by=chair
    )
    assert enqueue and again.pk == pack.pk


def test_a_failure_is_recorded(sitting, chair, monkeypatch):
    pack, _enqueue = board_pack_request(
        meeting=sitting["meeting"], kind="minutes", language="en", by=chair
    )

    def broken(**kwargs):
        raise RuntimeError("pango is gone")

    monkeypatch.setattr("governance.committee.board_pack.board_pack_pdf", broken)
    with pytest.raises(RuntimeError):
        board_pack_generate(pack_id=pack.pk)
    pack.refresh_from_db()
    assert (pack.state, pack.error) == (BoardPackState.FAILED, "RuntimeError")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("chair", 200),
        ("member", 200),
        ("director", 200),
        ("administrator", 200),
        ("kam", 403),
        ("outsider", 403),
    ],
)
def test_whoever_sees_the_meeting_downloads_its_pack(
    sitting, cast, client_as, settings, tmp_path, role, status
):
    settings.MEDIA_ROOT = tmp_path
    pack, _enqueue = ask(sitting, cast["chair"])
    board_pack_generate(pack_id=pack.pk)
    url = reverse("governance:meeting-pack-download", args=[sitting["meeting"].pk, "pack", "en"])

    response = client_as(cast[role]).get(url)

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_asking_on_the_meeting_page_queues_it_and_shows_its_state(
    sitting, client_as, director, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "governance.committee.views.meetings.draw_up_board_pack.delay", queued.append
    )
    meeting: Meeting = sitting["meeting"]
    http = client_as(director)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            reverse("governance:meeting-packs", args=[meeting.pk]),
            {"kind": "minutes", "language": "ru"},
            headers={"HX-Request": "true"},
        )
    pack = BoardPack.objects.get(meeting=meeting)
    assert queued == [pack.pk]
    page = response.content.decode()
    assert 'hx-trigger="every 2s"' in page  # it polls while the worker draws it up
    assert "Waiting for the worker" in page
    assert "Download PDF" not in page
    # Not ready: nothing to download yet.
    url = reverse("governance:meeting-pack-download", args=[meeting.pk, "minutes", "ru"])
    assert http.get(url).status_code == 404


def test_an_unknown_kind_or_language_is_404(sitting, client_as, chair):
    url = reverse("governance:meeting-packs", args=[sitting["meeting"].pk])
    assert client_as(chair).post(url, {"kind": "poster", "language": "en"}).status_code == 404
    assert client_as(chair).post(url, {"kind": "pack", "language": "fr"}).status_code == 404


def test_kams_cannot_ask_for_a_pack(sitting, client_as, kam):
    url = reverse("governance:meeting-packs", args=[sitting["meeting"].pk])
    assert client_as(kam).post(url, {"kind": "pack", "language": "en"}).status_code == 403
    assert not BoardPack.objects.exists()
