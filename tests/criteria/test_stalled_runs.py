"""Runs that cannot stall: a run in progress with no chunk done for ``STALL_AFTER`` has its
missing chunks queued again by the watchdog (once, however many beats), by ``POST /api/runs/``
and by the page's button; the page says since when nothing moved and who may resume it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from criteria import tasks
from criteria.evaluation import run_chunk, run_claim_stalled, run_start
from criteria.models import STALL_AFTER, EvaluationRun, RunStatus
from criteria.services import reevaluation_missed, reevaluation_schedule_set
from criteria.tasks import DATABASE_RETRIES
from governance.tasks import remind_non_voters
from tests.criteria.test_evaluation import adopt_ruler
from tests.factories import ClientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.time_machine("2026-11-18T12:00+03:00")]


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, tuple[object, ...]]]:
    """What would be sent to the broker: nothing leaves the test."""
    sent: list[tuple[str, tuple[object, ...]]] = []
    for name in ("evaluate_chunk", "resume_stalled_run", "reevaluate_all"):
        monkeypatch.setattr(
            f"criteria.tasks.{name}.delay", lambda *args, name=name: sent.append((name, args))
        )
    return sent


@pytest.fixture
def stalled(time_machine) -> EvaluationRun:
    """Four chunks; one done, then the worker killed with the other three in flight."""
    adopt_ruler()
    ClientFactory.create_batch(4)
    run = run_start(chunk_size=1)
    run_chunk(run=run, index=0)
    time_machine.shift(STALL_AFTER + datetime.timedelta(seconds=1))
    run.refresh_from_db()
    return run


def test_a_run_that_moves_is_not_stalled(queued) -> None:
    adopt_ruler()
    ClientFactory.create_batch(2)
    run = run_start(chunk_size=1)
    run_chunk(run=run, index=0)
    run.refresh_from_db()

    assert run.no_progress_since is None
    assert run_claim_stalled() is None
    assert tasks.resume_stalled_run() is None
    assert queued == []


def test_the_watchdog_queues_the_missing_chunks_of_a_stalled_run_once(stalled, queued) -> None:
    assert stalled.no_progress_since == stalled.progressed_at

    assert tasks.resume_stalled_run() == stalled.pk  # one beat
    assert tasks.resume_stalled_run() is None  # another beat, or the next minute

    assert queued == [("evaluate_chunk", (stalled.pk, n)) for n in (1, 2, 3)]
    stalled.refresh_from_db()
    assert stalled.no_progress_since is None  # given another STALL_AFTER to move
    for args in [args for _name, args in queued]:
        tasks.evaluate_chunk(*args)
    stalled.refresh_from_db()
    assert (stalled.status, stalled.chunks_done, stalled.clients_evaluated) == (
        RunStatus.DONE,
        4,
        4,
    )


def test_posting_to_the_api_resumes_a_stalled_run(
    stalled, queued, client_as, administrator, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_as(administrator).post("/api/runs/")

    assert answer.status_code == 200
    assert answer.json()["id"] == stalled.pk
    assert queued == [("resume_stalled_run", (stalled.pk,))]


def test_the_page_says_since_when_nothing_moved_and_who_may_resume(
    stalled, client_as, chair
) -> None:
    page = client_as(chair).get(reverse("criteria:run-progress", args=[stalled.pk]))
    text = page.content.decode()

    assert 'data-testid="run-stalled"' in text
    assert "No progress since" in text
    assert str(chair) in text.split("Who may resume it:")[1]
    assert reverse("criteria:run-start") in text  # the chair's button
    assert timezone.now() - stalled.progressed_at > STALL_AFTER


# --- A scheduled run that no beat sent is caught up, once -----------------------------------


@pytest.fixture
def nightly(db) -> None:
    adopt_ruler()
    ClientFactory.create_batch(2)
    reevaluation_schedule_set(cadence="nightly")  # at 02:00


def run_created_at(moment: str) -> EvaluationRun:
    run = run_start(chunk_size=1)
    EvaluationRun.objects.filter(pk=run.pk).update(
        created_at=datetime.datetime.fromisoformat(moment), in_progress=None, status="done"
    )
    return run


def test_a_nightly_run_missed_by_a_beat_that_was_down_starts_once(nightly, queued) -> None:
    run_created_at("2026-11-17T02:00:02+03:00")  # last night's; now is 12:00 the next day
    assert reevaluation_missed() is True

    started = tasks.reevaluate_if_missed()
    assert started is not None
    assert tasks.reevaluate_if_missed() is None  # once
    assert EvaluationRun.objects.count() == 2
    assert reevaluation_missed() is False


@pytest.mark.time_machine("2026-11-18T02:10+03:00")
def test_a_nightly_run_is_left_to_the_beat_for_a_while(nightly) -> None:
    run_created_at("2026-11-17T02:00:02+03:00")
    assert reevaluation_missed() is False  # the beat's own send may still be in the queue
    assert tasks.reevaluate_if_missed() is None


def test_a_run_since_the_hour_is_not_missed(nightly) -> None:
    run_created_at("2026-11-18T02:00:02+03:00")
    assert reevaluation_missed() is False


def test_database_errors_are_retried_for_minutes_not_seconds() -> None:
    """PostgreSQL restarting took remind_non_voters' 5 retries (about 8 s) in the issue."""
    options = DATABASE_RETRIES
    waits = [
        min(options["retry_backoff"] * 2**n, options["retry_backoff_max"])
        for n in range(options["max_retries"])
    ]
    assert sum(waits) > 30 * 60  # at most; jitter makes each wait a random share of it
    assert max(waits) < 15 * 60  # inside the broker's visibility timeout
    assert remind_non_voters.max_retries == options["max_retries"]
