"""The ruler's pages: a client's scorecard explains its verdict, the coverage matrix saves a
cell over htmx and answers with the new coverage, and the overview starts and shows runs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from criteria.evaluation import run_all_chunks, run_start
from criteria.models import (
    CriterionKind,
    NeedCoverage,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
)
from tests.factories import ClientFactory, FigureFactory, NeedFactory, USPFactory

# The scorecard reads the figures of the quarters before today's, written here for 2026: the
# clock is set to noon in Moscow on a day of 2026 Q4 (time-machine).
pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def ruler() -> RulerVersion:
    ruler = RulerVersion.objects.create(
        number=1,
        title="Ruler 2026",
        status=RulerStatus.IN_FORCE,
        coverage_threshold=Decimal("0.75"),
    )
    RulerCriterion.objects.create(
        ruler=ruler,
        kind=CriterionKind.POTENTIAL_REVENUE,
        threshold=Decimal(1_000_000),
        is_gate=True,
    )
    return ruler


@pytest.fixture
def scored_account(account_of_kam, ruler):
    """kam's client: needs of weight 6 (met by a USP) and 4 (not met): 60 % covered."""
    delivery = USPFactory(name="24-hour delivery")
    met = NeedFactory(client=account_of_kam, name="Fast delivery", weight=6)
    NeedFactory(client=account_of_kam, name="On-site engineer", weight=4)
    NeedCoverage.objects.create(need=met, usp=delivery, degree=Decimal(1))
    FigureFactory(client=account_of_kam, period=datetime.date(2026, 7, 1))
    return account_of_kam


def test_scorecard_explains_a_verdict_below_the_threshold(client_as, chair, scored_account):
    page = client_as(chair).get(reverse("criteria:scorecard", args=[scored_account.pk])).text

    assert "60.0 %" in page
    assert (
        "Does not meet the ruler: covered 60.0 % of 75.0 %; unmet: On-site engineer (weight 4)."
        in page
    )
    assert "Cost of the mismatch" in page
    assert "Potential revenue over the horizon at least 1,000,000" in page


def test_scorecard_shows_the_history_of_runs(client_as, chair, scored_account):
    run = run_start(as_of=datetime.date(2026, 10, 15))
    run_all_chunks(run=run)

    page = client_as(chair).get(reverse("criteria:scorecard", args=[scored_account.pk])).text

    assert 'data-testid="history"' in page
    assert "10/15/2026" in page
    assert "does not meet" in page


def test_scorecard_speaks_russian(client_as, chair, scored_account):
    http = client_as(chair)
    http.post(reverse("set_language"), {"language": "ru", "next": "/"})
    page = http.get(reverse("criteria:scorecard", args=[scored_account.pk])).text
    assert "Не соответствует линейке" in page


def test_a_kam_sees_own_scorecard_but_cannot_change_coverage(client_as, kam, scored_account):
    http = client_as(kam)
    need = scored_account.needs.get(name="On-site engineer")
    usp = USPFactory(name="On-site service engineer")

    assert http.get(reverse("criteria:scorecard", args=[scored_account.pk])).status_code == 200
    page = http.get(reverse("criteria:coverage", args=[scored_account.pk])).text
    assert "Only the committee and administrators change coverage." in page
    response = http.post(
        reverse("criteria:coverage", args=[scored_account.pk]),
        {"need": need.pk, "usp": usp.pk, "degree": "1"},
    )
    assert response.status_code == 403
    assert not NeedCoverage.objects.filter(need=need).exists()


def test_editing_a_cell_over_htmx_answers_with_the_new_coverage(client_as, chair, scored_account):
    need = scored_account.needs.get(name="On-site engineer")
    engineer = USPFactory(name="On-site service engineer")

    response = client_as(chair).post(
        reverse("criteria:coverage", args=[scored_account.pk]),
        {"need": need.pk, "usp": engineer.pk, "degree": "0.5"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="coverage-summary"')
    assert "80.0 %" in response.text  # (6 + 4 × 0.5) / 10
    assert "Meets the ruler" in response.text
    assert NeedCoverage.objects.get(need=need, usp=engineer).degree == Decimal("0.5")


def test_setting_a_cell_to_none_removes_the_coverage(client_as, chair, scored_account):
    need = scored_account.needs.get(name="Fast delivery")
    usp = NeedCoverage.objects.get(need=need).usp

    client_as(chair).post(
        reverse("criteria:coverage", args=[scored_account.pk]),
        {"need": need.pk, "usp": usp.pk, "degree": "0"},
    )

    assert not NeedCoverage.objects.filter(need=need).exists()


def test_a_degree_outside_zero_to_one_is_refused(client_as, chair, scored_account):
    need = scored_account.needs.get(name="Fast delivery")
    usp = NeedCoverage.objects.get(need=need).usp
    response = client_as(chair).post(
        reverse("criteria:coverage", args=[scored_account.pk]),
        {"need": need.pk, "usp": usp.pk, "degree": "1.5"},
    )
    assert response.status_code == 400
    assert "A degree is a share from 0 to 1." in response.text
    assert NeedCoverage.objects.get(need=need).degree == Decimal(1)


def test_a_need_of_another_client_cannot_be_edited_through_this_client(
    client_as, chair, scored_account, account_of_kam2
):
    foreign = NeedFactory(client=account_of_kam2, name="Leasing")
    usp = USPFactory()
    response = client_as(chair).post(
        reverse("criteria:coverage", args=[scored_account.pk]),
        {"need": foreign.pk, "usp": usp.pk, "degree": "1"},
    )
    assert response.status_code == 404
    assert not NeedCoverage.objects.filter(need=foreign).exists()


def test_overview_lists_runs_and_review_items(client_as, chair, scored_account):
    NeedCoverage.objects.filter(need__client=scored_account).update(degree=Decimal(1))
    NeedCoverage.objects.create(
        need=scored_account.needs.get(name="On-site engineer"),
        usp=USPFactory(),
        degree=Decimal(1),
    )
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    page = client_as(chair).get(reverse("criteria:overview")).text

    assert "Meets the ruler but is not a key client" in page
    assert scored_account.name in page
    assert "1 clients evaluated" in page or "1 clients evaluated, 0 verdict changes" in page


def test_starting_a_run_without_a_ruler_in_force_says_so(client_as, administrator):
    response = client_as(administrator).post(reverse("criteria:run-start"), follow=True)
    assert "No ruler version is in force yet: adopt one first." in response.text


def test_starting_a_run_queues_the_task_after_commit(
    client_as, administrator, ruler, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("criteria.tasks.reevaluate_all.delay", lambda *a: queued.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(administrator).post(reverse("criteria:run-start"), follow=True)
    assert "Re-evaluation of every client started." in response.text
    assert queued == [(administrator.pk,)]


def test_run_progress_polls_while_in_progress_and_stops_when_done(client_as, chair, scored_account):
    run = run_start(as_of=datetime.date(2026, 10, 1))
    http = client_as(chair)
    url = reverse("criteria:run-progress", args=[run.pk])

    waiting = http.get(url, headers={"HX-Request": "true"}).text
    run_all_chunks(run=run)
    done = http.get(url, headers={"HX-Request": "true"}).text

    assert 'hx-trigger="every 2s"' in waiting and "<html" not in waiting
    assert 'hx-trigger="every 2s"' not in done
    assert 'data-testid="run-progress">100 %' in done


@pytest.fixture
def two_clients_and_a_draft(ruler, account_of_kam, account_of_kam2):
    """kam's client is covered 80 %, kam2's 70 %; the draft lowers the threshold to 70 %."""
    usp = USPFactory(name="Certified quality")
    for client, degree, revenue in (
        (account_of_kam, Decimal("0.8"), Decimal(3_000_000)),
        (account_of_kam2, Decimal("0.7"), Decimal(1_000_000)),
    ):
        need = NeedFactory(client=client, name="Quality", weight=5)
        NeedCoverage.objects.create(need=need, usp=usp, degree=degree)
        FigureFactory(client=client, period=datetime.date(2026, 7, 1), revenue=revenue)
    ruler.criteria.all().delete()
    draft = RulerVersion.objects.create(
        number=2, title="Lower bar", coverage_threshold=Decimal("0.70")
    )
    return draft


def test_what_if_names_the_clients_a_draft_would_make_eligible(
    client_as, chair, two_clients_and_a_draft, account_of_kam2
):
    page = client_as(chair).get(reverse("criteria:version", args=[two_clients_and_a_draft.pk])).text

    assert "Clients meeting the ruler: 1 now, 2 with this draft" in page
    assert "75.0 % now, 100.0 % with this draft" in page
    assert "1 client would become eligible" in page
    assert account_of_kam2.name in page
    assert "0 clients would lose eligibility" in page


def test_committee_edits_a_draft_in_percent(client_as, chair, two_clients_and_a_draft):
    draft = two_clients_and_a_draft
    response = client_as(chair).post(
        reverse("criteria:version", args=[draft.pk]),
        {
            "title": "Lower bar",
            "horizon_months": "18",
            "notes": "",
            "threshold_percent": "72.5",
            "concession_percent": "12",
            "criteria-TOTAL_FORMS": "1",
            "criteria-INITIAL_FORMS": "0",
            "criteria-0-kind": "gross_margin_percent",
            "criteria-0-direction": "at_least",
            "criteria-0-threshold": "15",
            "criteria-0-weight": "2",
        },
    )
    draft.refresh_from_db()
    assert response.status_code == 302
    assert draft.coverage_threshold == Decimal("0.725")
    assert draft.concession_rate == Decimal("0.12")
    assert draft.horizon_months == 18
    assert list(draft.criteria.values_list("kind", "threshold")) == [
        ("gross_margin_percent", Decimal("15.00"))
    ]


def test_a_threshold_above_100_percent_is_refused(client_as, chair, two_clients_and_a_draft):
    response = client_as(chair).post(
        reverse("criteria:version", args=[two_clients_and_a_draft.pk]),
        {
            "title": "Lower bar",
            "horizon_months": "12",
            "threshold_percent": "120",
            "concession_percent": "10",
            "criteria-TOTAL_FORMS": "0",
            "criteria-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 100." in response.text
    two_clients_and_a_draft.refresh_from_db()
    assert two_clients_and_a_draft.coverage_threshold == Decimal("0.70")


def test_an_adopted_version_cannot_be_edited(client_as, chair, ruler):
    response = client_as(chair).post(
        reverse("criteria:version", args=[ruler.pk]),
        {"title": "Changed", "horizon_months": "1", "threshold_percent": "1"},
    )
    assert response.status_code == 403
    ruler.refresh_from_db()
    assert ruler.title == "Ruler 2026"


@pytest.mark.parametrize("role", ["chair", "administrator"])
def test_no_page_puts_a_ruler_in_force(client_as, cast, role, ruler, two_clients_and_a_draft):
    """The version page offers the committee's proposal, never a button that adopts it."""
    draft = two_clients_and_a_draft
    http = client_as(cast[role])

    page = http.get(reverse("criteria:version", args=[draft.pk])).text
    adopt = http.post(f"/ruler/versions/{draft.pk}/adopt/")

    assert "Put this version in force" not in page
    assert adopt.status_code == 404
    assert RulerVersion.objects.get(status=RulerStatus.IN_FORCE) == ruler


def test_drafting_a_new_version_copies_the_one_in_force(client_as, chair, ruler):
    response = client_as(chair).post(reverse("criteria:version-new"))
    draft = RulerVersion.objects.get(status=RulerStatus.DRAFT)
    assert response.url == reverse("criteria:version", args=[draft.pk])
    assert draft.number == 2
    assert list(draft.criteria.values_list("kind", flat=True)) == ["potential_revenue"]


def test_portfolio_maps_the_last_run_and_lists_disagreements(
    client_as, chair, two_clients_and_a_draft, account_of_kam, account_of_kam2
):
    Client = type(account_of_kam)
    Client.objects.filter(pk=account_of_kam2.pk).update(is_key=True)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    response = client_as(chair).get(reverse("criteria:portfolio"))
    chart = response.context["chart"]

    assert {p["name"]: p["group"] for p in chart["points"]} == {
        account_of_kam.name: "other_meets",
        account_of_kam2.name: "key_fails",
    }
    assert chart["threshold"] == 75.0
    assert response.context["summary"]["meets_not_key"] == 1
    assert response.context["summary"]["key_fails"] == 1
    rows = response.text.split('data-testid="disagreements"')[1]
    assert account_of_kam.name in rows and account_of_kam2.name in rows
    assert "chart-4.6.1.umd.min.js" in response.text


def test_portfolio_filters_by_verdict_and_a_kam_sees_only_own_clients(
    client_as, chair, kam, two_clients_and_a_draft, account_of_kam, account_of_kam2
):
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))

    failing = client_as(chair).get(reverse("criteria:portfolio"), {"verdict": "fails"})
    own = client_as(kam).get(reverse("criteria:portfolio"))

    assert [p["name"] for p in failing.context["chart"]["points"]] == [account_of_kam2.name]
    assert [p["name"] for p in own.context["chart"]["points"]] == [account_of_kam.name]


def test_portfolio_queries_do_not_grow_with_clients(
    client_as, chair, ruler, django_assert_max_num_queries
):

    http = client_as(chair)
    ClientFactory.create_batch(3)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 1)))
    with django_assert_max_num_queries(20) as few:
        http.get(reverse("criteria:portfolio"))
    ClientFactory.create_batch(30)
    run_all_chunks(run=run_start(as_of=datetime.date(2026, 10, 2)))
    with django_assert_max_num_queries(len(few.captured_queries)):
        http.get(reverse("criteria:portfolio"))


def test_portfolio_without_a_finished_run_says_so(client_as, chair):
    page = client_as(chair).get(reverse("criteria:portfolio")).text
    assert "No re-evaluation has finished yet, so there is nothing to map." in page


def test_the_committee_rates_strategic_fit_and_the_latest_rating_counts(
    client_as, chair, kam, scored_account
):
    url = reverse("criteria:scorecard", args=[scored_account.pk])
    http = client_as(chair)
    http.post(url, {"rating": "2", "comment": "Not our market"})
    page = http.post(url, {"rating": "5", "comment": "Strategic bet"}, follow=True).text

    assert "Strategic fit rated." in page
    assert scored_account.fit_ratings.count() == 2
    assert "5 / 5" in page.split('data-testid="fit-ratings"')[1].split("</li>")[0]
    assert client_as(kam).post(url, {"rating": "1"}).status_code == 403
    assert http.post(url, {"rating": "7"}).status_code == 200  # the form says what is wrong
    assert scored_account.fit_ratings.count() == 2


def test_usp_catalogue_retires_a_usp_but_never_before_it_was_offered(
    client_as, administrator, chair
):
    usp = USPFactory(name="Five-year warranty", since=datetime.date(2020, 1, 1))
    url = reverse("criteria:usp-edit", args=[usp.pk])
    base = {"name": usp.name, "description": "", "since": "2020-01-01"}

    early = client_as(administrator).post(url, {**base, "retired_on": "2019-12-31"})
    assert "A USP cannot be retired before it was offered." in early.text
    client_as(administrator).post(url, {**base, "retired_on": "2026-10-01"})
    usp.refresh_from_db()

    assert usp.retired_on == datetime.date(2026, 10, 1)
    assert "retired 10/01/2026" in client_as(chair).get(reverse("criteria:usp-list")).text
    assert client_as(chair).post(url, {**base, "retired_on": ""}).status_code == 403


def test_the_criteria_formset_saves_in_a_fixed_number_of_queries(client_as, chair):
    kinds = list(CriterionKind)

    def saved(number: int, criteria: int) -> int:
        draft = RulerVersion.objects.create(number=number, title=f"Draft {number}")
        for kind in kinds[:criteria]:
            RulerCriterion.objects.create(ruler=draft, kind=kind, threshold=Decimal(1))
        rows = list(draft.criteria.order_by("pk"))
        data: dict[str, object] = {
            "title": draft.title,
            "horizon_months": "12",
            "threshold_percent": "75",
            "concession_percent": "10",
            "criteria-TOTAL_FORMS": len(rows) + 1,
            "criteria-INITIAL_FORMS": len(rows),
            "criteria-0-DELETE": "on",
        }
        for index, row in enumerate(rows):
            data |= {
                f"criteria-{index}-id": row.pk,
                f"criteria-{index}-kind": row.kind,
                f"criteria-{index}-direction": "at_least",
                f"criteria-{index}-threshold": "2",
                f"criteria-{index}-weight": "3",
            }
        data |= {
            f"criteria-{len(rows)}-kind": kinds[-1],
            f"criteria-{len(rows)}-direction": "at_most",
            f"criteria-{len(rows)}-threshold": "5",
            f"criteria-{len(rows)}-weight": "1",
        }
        with CaptureQueriesContext(connection) as queries:
            response = client_as(chair).post(reverse("criteria:version", args=[draft.pk]), data)
        assert response.status_code == 302
        assert draft.criteria.count() == criteria
        assert set(draft.criteria.values_list("weight", flat=True)) == {1, 3}
        return len(queries)

    assert saved(2, 2) == saved(3, 5)
