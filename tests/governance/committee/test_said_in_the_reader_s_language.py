"""What SKAM says about a proposal — its verdict, a title it made, a decision — is kept as data
and said in the reader's language: the same proposal reads in English to one member and in
Russian to another, whoever opened it and in whatever language."""

from __future__ import annotations

import datetime
from base64 import b64decode

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from criteria.models import RulerStatus, RulerVersion
from governance.committee.calendar_feed import calendar_feed_issue
from governance.committee.proposals import (
    proposal_close,
    proposal_create,
    proposal_open,
    vote_cast,
)
from governance.models import CommitteeMember, Decision, OutgoingMail, Proposal, ProposalType
from tests.factories import ClientFactory, NeedFactory, meets_the_ruler
from tests.governance.committee.test_calendar import _read

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def decided_then_bet(chair, member):
    """Volga made key by the committee, then a need of Volga's our USPs do not meet, and a
    proposal to revoke its key status, with the decision frozen in its evidence. Everything
    proposed, voted and closed in Russian, no title typed."""
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    volga = ClientFactory(name="Volga")
    meets_the_ruler(volga)
    deadline = timezone.now() + datetime.timedelta(days=7)
    with translation.override("ru"):
        grant = proposal_open(
            proposal=proposal_create(
                type=ProposalType.GRANT_KEY, title="", rationale="Why", by=chair, client=volga
            ),
            deadline=deadline,
        )
        for user in (chair, member):
            vote_cast(proposal=grant, member=user, choice="for")
        proposal_close(proposal=grant, early=True)
        volga.refresh_from_db()
        NeedFactory(client=volga, name="Delivery", weight=5)  # unmet: below the ruler now
        revoke = proposal_open(
            proposal=proposal_create(
                type=ProposalType.REVOKE_KEY,
                title="",
                rationale="Half covered now",
                by=member,
                client=volga,
            ),
            deadline=deadline,
        )
    return {"grant": grant, "revoke": revoke, "decision": Decision.objects.get(proposal=grant)}


def _between(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}"')[1].split("</")[0]


def test_the_same_proposal_reads_in_english_and_in_russian(client_as, member, decided_then_bet):
    revoke = decided_then_bet["revoke"]
    http = client_as(member)

    english = http.get(revoke.get_absolute_url(), **EN).text
    russian = http.get(revoke.get_absolute_url(), **RU).text

    assert "<h1>Revoke key status: Volga</h1>" in english
    assert "<h1>Снять статус ключевого: Volga</h1>" in russian
    verdict = "Does not meet the ruler: covered 50.0 % of 75.0 %; unmet: Delivery (weight 5)."
    assert _between(english, "evidence-verdict") == f"><strong>{verdict}"
    assert _between(russian, "evidence-verdict") == (
        "><strong>Не соответствует линейке: покрыто 50,0 % из 75,0 %; не закрыто: Delivery (вес 5)."
    )
    assert "2026-11-18: Grant key status: Volga" in _between(english, "evidence-decisions")
    assert "2026-11-18: Присвоить статус ключевого: Volga" in _between(
        russian, "evidence-decisions"
    )
    assert "Does not meet" not in russian and "Grant key status" not in russian


def test_a_title_typed_is_kept_as_typed(member, decided_then_bet):
    with translation.override("ru"):
        proposal = proposal_create(
            type=ProposalType.STRATEGIC_BET,
            title="  Volga, again  ",
            rationale="Why",
            by=member,
            client=decided_then_bet["revoke"].client,
            review_date=datetime.date(2027, 6, 1),
        )
    with translation.override("en"):
        assert (proposal.title, proposal.title_is_auto) == ("Volga, again", False)
    assert decided_then_bet["revoke"].title_is_auto


def test_the_register_says_each_decision_in_the_reader_s_language(
    client_as, member, decided_then_bet
):
    http = client_as(member)
    url = reverse("governance:decision-list")

    assert "Grant key status: Volga" in http.get(url, **EN).text
    russian = http.get(url, **RU).text
    assert "Присвоить статус ключевого: Volga" in russian and "Grant key" not in russian


def test_the_api_gives_the_data_and_the_words_in_the_request_s_language(
    client_as, member, decided_then_bet
):
    revoke, decision = decided_then_bet["revoke"], decided_then_bet["decision"]
    http = client_as(member)

    russian = http.get(f"/api/proposals/{revoke.pk}/", **RU).json()
    english = http.get(f"/api/proposals/{revoke.pk}/", **EN).json()

    assert (russian["title"], russian["title_is_auto"]) == ("Снять статус ключевого: Volga", True)
    assert english["title"] == "Revoke key status: Volga"
    assert russian["verdict"] == {
        "code": "fails_ruler",
        "coverage": "50.0",
        "threshold": "75.0",
        "short": True,
        "unmet": [{"need": "Delivery", "weight": 5}],
        "gates": [],
        "text": "Не соответствует линейке: покрыто 50,0 % из 75,0 %; не закрыто: Delivery (вес 5).",
    }
    assert english["verdict"]["text"].startswith("Does not meet the ruler: covered 50.0 %")
    assert russian["evidence"]["decisions"] == [
        {
            "date": "2026-11-18",
            "kind": "grant_key",
            "subject": {"client": "Volga"},
            "summary": "Присвоить статус ключевого: Volga",
        }
    ]
    listed = http.get("/api/decisions/", **RU).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(row["kind"], row["subject"], row["summary"]) for row in rows] == [
        ("grant_key", {"client": "Volga"}, "Присвоить статус ключевого: Volga")
    ]
    with translation.override("en"):
        assert decision.summary == "Grant key status: Volga"


def test_a_list_says_titles_with_no_query_per_proposal(
    client_as, member, decided_then_bet, django_assert_max_num_queries
):
    http = client_as(member)
    http.get(reverse("governance:proposal-list"), {"state": "all"})  # warm the session
    with django_assert_max_num_queries(12):
        page = http.get(reverse("governance:proposal-list"), {"state": "all"}, **RU).text
    assert "Снять статус ключевого: Volga" in page and "Присвоить статус ключевого: Volga" in page
    assert Proposal.objects.filter(typed_title="").count() == 2


def test_switching_the_interface_s_language_sets_the_language_of_one_s_letters(client_as, member):
    http = client_as(member)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    member.refresh_from_db()
    assert member.language == "ru"
    http.post(reverse("set_language"), {"language": "de", "next": "/"})  # not ours: kept
    member.refresh_from_db()
    assert member.letter_language == "ru"


def test_each_member_is_written_to_in_their_language_not_the_proposer_s(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    RulerVersion.objects.create(number=1, title="Ruler", status=RulerStatus.IN_FORCE)
    kama = ClientFactory(name="Kama")
    meets_the_ruler(kama)
    member.language = "ru"
    member.save(update_fields=["language"])
    with translation.override("ru"):  # the proposer works in Russian; the chair reads English
        proposal = proposal_open(
            proposal=proposal_create(
                type=ProposalType.GRANT_KEY, title="", rationale="Why", by=chair, client=kama
            ),
            deadline=timezone.now() + datetime.timedelta(days=7),
        )

    letters = {m.to: m for m in OutgoingMail.objects.filter(key__startswith="proposal-opened")}
    assert letters[member.email].subject == (
        "Новое предложение на голосование: Присвоить статус ключевого: Kama"
    )
    assert letters[chair.email].subject == "New proposal to vote on: Grant key status: Kama"
    assert "Grant key status: Kama\n" in letters[chair.email].body
    invitation = b64decode(letters[member.email].attachments[0]["content"]).decode()
    assert "Присвоить статус ключевого: Kama" in invitation.replace("\r\n ", "")
    assert proposal.get_absolute_url() in letters[member.email].body


def test_a_calendar_says_titles_in_its_language_with_no_query_per_proposal(
    member, decided_then_bet, django_assert_num_queries
):
    token = calendar_feed_issue(user=member, language="ru")
    # The address, the owner's permissions (groups, own), then meetings, deadlines (their
    # clients joined), reviews and mandates: one query each, whatever the number of proposals.
    with django_assert_num_queries(7):
        calendar = _read(token)
    summaries = {str(event["summary"]) for event in calendar.walk("VEVENT")}
    assert "Голосование закрывается: Снять статус ключевого: Volga" in summaries
