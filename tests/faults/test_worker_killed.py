"""A worker killed with SIGKILL in the middle of a re-evaluation, on the production shape (a
prefork worker in its own processes, Redis as the broker, PostgreSQL): once a worker runs
again, the watchdog's resume finishes the run, with the same rows as a clean run.

The broker is a throwaway Redis of the test's own; the worker reads the test's database,
so the test commits (transactional) and PostgreSQL's run on it is left as it ends."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection

from criteria import tasks
from criteria.evaluation import run_all_chunks, run_start
from criteria.models import STALL_AFTER, Evaluation, EvaluationRun, RunStatus
from skam.celery import app
from tests.criteria.test_evaluation import adopt_ruler, need
from tests.factories import ClientFactory, USPFactory
from tests.faults.servers import celery_worker, kill_session, throwaway_redis

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

CLIENTS, CHUNK = 300, 5


def wait_for(condition, *, timeout: float, every: float = 0.005) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(every)
    return time.monotonic() - started


def chunks_done(run: EvaluationRun) -> int:
    return EvaluationRun.objects.values_list("chunks_done", flat=True).get(pk=run.pk)


def settled(run: EvaluationRun, *, quiet: float = 3.0) -> int:
    """Chunks done once no chunk has been done for ``quiet`` seconds. (The messages a killed
    worker held wait in Redis's "unacked" for its visibility timeout, 15 minutes; whether it
    held any when killed depends on the moment.)"""
    last, since = chunks_done(run), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.1)
        if (now := chunks_done(run)) != last:
            last, since = now, time.monotonic()
    return last


def verdicts(run: EvaluationRun) -> list[tuple[object, ...]]:
    return list(
        Evaluation.objects.filter(run=run)
        .order_by("client_id")
        .values_list("client_id", "meets_ruler", "coverage_ratio")
    )


def test_a_run_whose_worker_was_killed_is_finished_by_the_watchdog(time_machine) -> None:
    adopt_ruler()
    usp = USPFactory()
    for index, client in enumerate(ClientFactory.create_batch(CLIENTS)):
        need(client, 5, (usp, "1" if index % 3 else "0.5"))
    database = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)

    with throwaway_redis() as redis:
        saved = app.conf.broker_url
        app.conf.broker_url = redis.url
        app._after_fork()
        try:
            run = run_start(chunk_size=CHUNK)
            for number in range(run.chunks_total):
                tasks.evaluate_chunk.delay(run.pk, number)
            cache = redis.url.replace("/0", "/1")
            with celery_worker(database=database, broker=redis.url, cache=cache) as worker:
                wait_for(lambda: chunks_done(run) >= 3, timeout=60)
                kill_session(worker)
            at_kill = chunks_done(run)
            assert at_kill < run.chunks_total, "the worker finished before it was killed"

            with celery_worker(database=database, broker=redis.url, cache=cache):
                # The messages the killed worker held are Redis's "unacked" for 15 minutes:
                # the run stops short of its end, with no progress.
                wait_for(lambda: chunks_done(run) > at_kill, timeout=60, every=0.05)
                stalled_at = settled(run)
                if stalled_at < run.chunks_total:  # the watchdog's beat, STALL_AFTER later
                    time_machine.move_to(
                        datetime.datetime.now(tz=datetime.UTC) + STALL_AFTER, tick=True
                    )
                    assert tasks.resume_stalled_run() == run.pk
                took = wait_for(
                    lambda: EvaluationRun.objects.get(pk=run.pk).status == RunStatus.DONE,
                    timeout=60,
                    every=0.05,
                )
        finally:
            app.conf.broker_url = saved
            app._after_fork()

    run.refresh_from_db()
    clean = run_all_chunks(run=run_start(chunk_size=CHUNK))
    print(
        f"\nWorker SIGKILLed at {at_kill}/{run.chunks_total} chunks; restarted, it stalled at "
        f"{stalled_at}/{run.chunks_total} (messages held by the dead worker); "
        f"{'the watchdog resumed it' if stalled_at < run.chunks_total else 'nothing was lost'}, "
        f"done {took:.1f} s later; "
        f"{run.clients_evaluated} clients, {len(verdicts(clean))} in a clean run"
    )
    assert (run.chunks_done, run.clients_evaluated) == (run.chunks_total, CLIENTS)
    assert [row[1:] for row in verdicts(run)] == [row[1:] for row in verdicts(clean)]
