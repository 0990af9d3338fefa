"""Celery tasks of the register's imports: a thin shell over ``accounts.imports``.

The upload page keeps the file and queues its check; the confirmation claims the batch and
queues its import. Both are safe to run twice: the check claims a waiting batch with a
conditional update, the import locks a batch being imported and finds it done the second time.
A task that fails for good marks its batch failed, so the page says so rather than wait.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerUnreachable
from redis.exceptions import RedisError

from accounts.imports import ImportNotApplicable, import_apply_run, import_check_run, import_fail

logger = logging.getLogger(__name__)

# A database that restarts is waited for (5 s doubling, with jitter); the time limits stay
# inside the broker's visibility timeout, so Redis never hands a running import out twice.
_IMPORT_TASK = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": 20 * 60,
    "time_limit": 25 * 60,
}


@shared_task(**_IMPORT_TASK)
def import_check_task(batch_id: int) -> int | None:
    """Check an uploaded file, row by row, noting progress after every chunk."""
    try:
        batch = import_check_run(batch_id=batch_id)
    except OperationalError:
        raise
    except Exception:
        logger.exception("The check of import %s failed.", batch_id)
        import_fail(batch_id=batch_id)
        raise
    return batch and batch.rows_total


@shared_task(**_IMPORT_TASK)
def import_apply_task(batch_id: int) -> str | None:
    """Import a confirmed file, all or nothing."""
    try:
        batch = import_apply_run(batch_id=batch_id)
    except ImportNotApplicable:
        return None  # the register changed meanwhile: the batch is back to checked, and says so
    except OperationalError:
        raise
    except Exception:
        logger.exception("The import of %s failed.", batch_id)
        import_fail(batch_id=batch_id)
        raise
    return batch and batch.status


def import_enqueue(task: Task, batch_id: int) -> bool:
    """Send an import's task to the workers. With the broker unreachable the page still
    answers: the batch waits, and its page offers to try again once it shows no progress."""
    try:
        task.delay(batch_id)
    except (BrokerUnreachable, RedisError, OSError):
        logger.warning("The broker cannot be reached: import %s was not queued.", batch_id)
        return False
    return True
