"""The ruler's pages: a client's scorecard explains its verdict, the coverage matrix saves a
cell over htmx and answers with the new coverage, and the overview starts and shows runs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from criteria.evaluation import run_all_chunks, run_start
from criteria.models import (
    CriterionKind,
    NeedCoverage,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
)
from tests.factories import FigureFactory, NeedFactory, USPFactory

pytestmark = pytest.mark.django_db


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
