"""Celery tasks of the ruler: a thin shell over ``criteria.evaluation``.

A run cannot stall: its chunks are idempotent (a chunk done is skipped), acknowledged late and
put back when their worker is lost (``CELERY_TASK_ACKS_LATE``, ``reject_on_worker_lost``), and
a run that shows no progress for ``STALL_AFTER`` has its missing chunks queued again by the
watchdog on the beat (``resume_stalled_run``, every minute), by ``POST /api/runs/`` and by the
page's button. A chunk's time limit is well inside the broker's visibility timeout
(settings), so a chunk still running is never handed to a second worker by Redis.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import RedisError

from accounts.models import User
from criteria.evaluation import (
    NoRulerInForce,
    chunks_remaining,
    run_chunk,
    run_claim_stalled,
    run_fail,
    run_finish_if_complete,
    run_start_or_resume,
)
from criteria.models import EvaluationRun, RunStatus
from criteria.services import reevaluation_missed

# A database that restarts or fails over is waited for minutes, not seconds: 5 s doubling to
# 5 min (with jitter), 12 times, about half an hour in all. The longest wait stays below the
# broker's visibility timeout (settings), or Redis would hand the waiting task out twice.
DATABASE_RETRIES = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 12,
}

logger = logging.getLogger(__name__)


@shared_task(**DATABASE_RETRIES)
def reevaluate_all(requested_by_id: int | None = None) -> int | None:
    """Start a run over every client (or resume the one in progress) and fan out its chunks
    to the workers. Beat calls this on the schedule the administrator keeps."""
    try:
        run, _created = run_start_or_resume(requested_by=requested_by_id and _user(requested_by_id))
    except NoRulerInForce:
        logger.warning("No ruler version is in force: nothing to evaluate against.")
        return None
    return _fan_out(run)


@shared_task(**DATABASE_RETRIES)
def reevaluate_if_missed() -> int | None:
    """Catch up a scheduled re-evaluation that no beat sent (every 5 minutes on the beat): a
    run starts at once, once."""
    if not reevaluation_missed():
        return None
    logger.warning("The scheduled re-evaluation was missed: it starts now.")
    return reevaluate_all()


@shared_task
def resume_stalled_run(run_id: int | None = None) -> int | None:
    """The watchdog (every minute on the beat), and the API's resume: queue again the chunks
    of a run that has shown no progress for a while. Returns the run resumed, if any."""
    run = run_claim_stalled(run=run_id and EvaluationRun.objects.get(pk=run_id))
    if run is None:
        return None
    logger.warning(
        "Run %s showed no progress since %s: its chunks are queued again.",
        run.pk,
        run.progressed_at,
    )
    return _fan_out(run)


def _fan_out(run: EvaluationRun) -> int:
    for number in chunks_remaining(run=run):
        evaluate_chunk.delay(run.pk, number)
    run_finish_if_complete(run=run)
    return run.pk


@shared_task(
    **DATABASE_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
    # Far below the broker's visibility timeout (settings): Redis never hands a chunk still
    # running to a second worker.
    soft_time_limit=9 * 60,
    time_limit=10 * 60,
)
def evaluate_chunk(run_id: int, number: int) -> bool:
    """Evaluate one chunk; a chunk done already (a redelivered message) is skipped."""
    run = EvaluationRun.objects.select_related("ruler").get(pk=run_id)
    if run.status in (RunStatus.DONE, RunStatus.FAILED):
        return False
    try:
        return run_chunk(run=run, index=number)
    except OperationalError:
        raise  # transient: retried here, or the run is resumed by the next reevaluate_all
    except Exception as error:
        # Anything else fails again on every resume: a run left in progress would block every
        # later run for good. End it with the error; the next scheduled run starts afresh.
        run_fail(run=run, error=f"Chunk {number}: {error!r}")
        raise


def enqueue(task: Task, *args: object) -> bool:
    """Send ``task`` to the workers from a web request, after its commit. With the broker
    unreachable (Redis down) the request still answers: the work is in the database, and the
    watchdogs take it up once the broker is back (a run with no progress is resumed, a missed
    schedule caught up). False when it could not be sent."""
    try:
        task.delay(*args)  # about 0.6 s to give up on a Redis that is down (settings)
    except (BrokerUnreachable, RedisError, OSError):
        logger.warning("The broker cannot be reached: %s was not queued.", task.name, exc_info=True)
        return False
    return True


def _user(pk: int) -> object:
    return User.objects.filter(pk=pk).first()
