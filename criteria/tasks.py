"""Celery tasks of the ruler: a thin shell over ``criteria.evaluation``."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from accounts.models import User
from criteria.evaluation import (
    NoRulerInForce,
    chunks_remaining,
    run_chunk,
    run_fail,
    run_finish_if_complete,
    run_start_or_resume,
)
from criteria.models import EvaluationRun, RunStatus

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def reevaluate_all(requested_by_id: int | None = None) -> int | None:
    """Start a run over every client (or resume the one in progress) and fan out its chunks
    to the workers. Beat calls this on the schedule the administrator keeps."""
    try:
        run, _created = run_start_or_resume(requested_by=requested_by_id and _user(requested_by_id))
    except NoRulerInForce:
        logger.warning("No ruler version is in force: nothing to evaluate against.")
        return None
    for number in chunks_remaining(run=run):
        evaluate_chunk.delay(run.pk, number)
    run_finish_if_complete(run=run)
    return run.pk


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
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


def _user(pk: int) -> object:
    return User.objects.filter(pk=pk).first()
