"""A draft SKAM titles itself ("First ruler", "Draft based on v1 …") keeps that title as data
and says it in each reader's language; a title a person typed stays as typed; titles written
by an older SKAM in English or Russian become data on ``migrate``."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone, translation

from criteria.models import RulerStatus, RulerTitle, RulerVersion
from governance.committee.proposals import proposal_create, proposal_open
from governance.committee.versions import digest_of, version_check
from governance.models import CommitteeMember, Proposal, ProposalType
from tests.factories import UserFactory

pytestmark = pytest.mark.time_machine("2026-11-18T12:00+03:00")

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def _new_draft(http) -> RulerVersion:
    response = http.post(reverse("criteria:version-new"), **EN)
    assert response.status_code == 302
    return RulerVersion.objects.order_by("-number").first()


@pytest.mark.django_db
def test_a_first_draft_created_in_english_reads_in_russian(client_as, chair):
    draft = _new_draft(client_as(chair))
    assert draft.typed_title == "" and draft.title_kind == RulerTitle.FIRST
    http = client_as(chair)  # another browser: not the creator's "created" message
    page = http.get(reverse("criteria:version", args=[draft.pk]), **RU).content.decode()
    assert "Первая линейка" in page and "First ruler" not in page
    page = http.get(reverse("criteria:version", args=[draft.pk]), **EN).content.decode()
    assert "First ruler" in page


@pytest.mark.django_db
def test_a_draft_based_on_the_ruler_in_force_names_it_in_the_reader_s_language(client_as, chair):
    RulerVersion.objects.create(number=1, title="Ruler 2026", status=RulerStatus.IN_FORCE)
    draft = _new_draft(client_as(chair))
    http = client_as(chair)
    assert draft.title_values == {"number": 1, "title": "Ruler 2026"}
    with translation.override("en"):
        assert draft.title == "Draft based on v1 Ruler 2026"
    with translation.override("ru"):
        assert draft.title == "Черновик на основе Ruler 2026, версия 1"
    listing = http.get(reverse("criteria:version", args=[draft.pk]), **RU).content.decode()
    assert "Черновик на основе Ruler 2026, версия 1" in listing
    assert "Draft based on" not in listing


@pytest.mark.django_db
def test_a_draft_based_on_an_untitled_draft_names_it_by_number_alone(chair):
    first = RulerVersion.objects.create(
        number=1, title_kind=RulerTitle.FIRST, status=RulerStatus.IN_FORCE
    )
    with translation.override("en"):
        assert first.title == "First ruler"
    second = RulerVersion(number=2, title_kind=RulerTitle.BASED_ON, title_values={"number": 1})
    with translation.override("en"):
        assert second.title == "Draft based on version 1"


@pytest.mark.django_db
def test_a_title_typed_on_the_page_is_kept_and_blank_goes_back_to_skam_s(client_as, chair):
    http = client_as(chair)
    draft = _new_draft(http)
    url = reverse("criteria:version", args=[draft.pk])
    form = {
        "horizon_months": "12",
        "notes": "",
        "threshold_percent": "75",
        "concession_percent": "10",
        "criteria-TOTAL_FORMS": "0",
        "criteria-INITIAL_FORMS": "0",
    }
    assert http.post(url, {**form, "title": "Ruler 2027"}, **EN).status_code == 302
    draft.refresh_from_db()
    with translation.override("ru"):
        assert draft.title == "Ruler 2027"  # as typed, in every language
    assert http.post(url, {**form, "title": ""}, **EN).status_code == 302
    draft.refresh_from_db()
    with translation.override("ru"):
        assert draft.title == "Первая линейка"


@pytest.mark.django_db
def test_a_typed_title_may_not_be_cleared_on_the_page_or_in_the_api(client_as, chair):
    draft = RulerVersion.objects.create(number=1, title="Ruler 2027")
    http = client_as(chair)
    page = http.post(
        reverse("criteria:version", args=[draft.pk]),
        {
            "title": "",
            "horizon_months": "12",
            "threshold_percent": "75",
            "concession_percent": "10",
            "criteria-TOTAL_FORMS": "0",
            "criteria-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200 and page.context["form"].errors["title"]
    api = http.patch(
        f"/api/rulers/{draft.pk}/", {"title": " "}, content_type="application/json", **EN
    )
    assert api.status_code == 400 and "title" in api.json()
    assert RulerVersion.objects.get(pk=draft.pk).typed_title == "Ruler 2027"


@pytest.mark.django_db
def test_the_api_gives_the_title_s_data_and_its_words_in_the_request_s_language(client_as, chair):
    http = client_as(chair)
    created = http.post("/api/rulers/", {}, content_type="application/json", **EN)
    assert created.status_code == 201, created.content
    assert created.json()["title"] == "First ruler"
    read = http.get(f"/api/rulers/{created.json()['id']}/", **RU).json()
    assert read["title"] == "Первая линейка"
    assert read["title_kind"] == "first" and read["title_values"] == {}


@pytest.mark.django_db
def test_a_vote_opened_in_english_adopts_the_draft_when_checked_in_russian(chair, member):
    for user in (chair, member):
        CommitteeMember.objects.create(
            user=user, committee_role="sales_director", active_from=datetime.date(2025, 1, 1)
        )
    RulerVersion.objects.create(number=1, title="Ruler 2026", status=RulerStatus.IN_FORCE)
    draft = RulerVersion.objects.create(
        number=2, title_kind=RulerTitle.BASED_ON, title_values={"number": 1, "title": "Ruler 2026"}
    )
    with translation.override("en"):
        proposal = proposal_open(
            proposal=proposal_create(
                type=ProposalType.ADOPT_RULER, title="", rationale="Why", by=chair, ruler=draft
            ),
            deadline=timezone.now() + datetime.timedelta(days=7),
        )
    proposal = Proposal.objects.get(pk=proposal.pk)
    with translation.override("ru"):
        version_check(proposal=proposal)  # the same digest: nothing differs
        assert proposal.title == (
            "Принять версию линейки: Черновик на основе Ruler 2026, версия 1, версия 2"
        )
    assert proposal.version_content["title"] == {
        "kind": "based_on",
        "number": 1,
        "title": "Ruler 2026",
    }


def _migrate(targets: list[tuple[str, str]]) -> object:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_titles_written_in_english_or_russian_become_data_on_migrate() -> None:
    chair = UserFactory()
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(
        [("criteria", "0009_run_error_said_when_read"), ("governance", "0032_merge_sso")]
    )
    try:
        OldRuler = old.get_model("criteria", "RulerVersion")
        OldProposal = old.get_model("governance", "Proposal")
        titles = {
            1: "First ruler",
            2: "Draft based on v1 First ruler",
            3: "Ruler 2027",
            4: "Черновик на основе Ruler 2027, версия 3",
            5: "Первая линейка",
            6: "Draft based on the board's wishes",
        }
        for number, title in titles.items():
            OldRuler.objects.create(number=number, title=title)
        # A vote open on the second, its content frozen with the English title.
        content = {"ruler": 2, "title": titles[2], "criteria": []}
        voted = OldProposal.objects.create(
            type="adopt_ruler",
            rationale="Why",
            proposed_by_id=chair.pk,
            state="open",
            ruler=OldRuler.objects.get(number=2),
            evidence={"ruler": {"number": 2, "title": titles[2]}},
            version_content=content,
            version_digest=digest_of(content),
        )
    finally:
        _migrate(latest)
    rulers = {r.number: r for r in RulerVersion.objects.all()}
    assert rulers[1].title_kind == "first" and rulers[1].typed_title == ""
    assert rulers[2].title_values == {"number": 1, "title": ""}
    assert rulers[3].typed_title == "Ruler 2027" and rulers[3].title_kind == ""
    assert rulers[4].title_values == {"number": 3, "title": "Ruler 2027"}
    assert rulers[5].title_kind == "first"
    assert rulers[6].typed_title == "Draft based on the board's wishes"  # a person's
    with translation.override("ru"):
        assert rulers[1].title == "Первая линейка"
        assert rulers[4].title == "Черновик на основе Ruler 2027, версия 3"
    with translation.override("en"):
        assert rulers[5].title == "First ruler"
        assert rulers[4].title == "Draft based on v3 Ruler 2027"
    voted = Proposal.objects.get(pk=voted.pk)
    as_data = {"kind": "based_on", "number": 1, "title": ""}
    assert voted.version_content["title"] == as_data
    assert voted.evidence["ruler"]["title"] == as_data
    assert voted.version_digest == digest_of(voted.version_content)
