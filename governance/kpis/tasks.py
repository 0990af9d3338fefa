"""Celery tasks of the KPIs that the contexts above enqueue (the beat's own jobs are in
``governance.tasks``, which sits above every context)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from accounts.periods import quarter_start
from governance.kpis.snapshots import snapshot_quarter


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def snapshot_current_quarter() -> int:
    """Recompute the quarter in progress (idempotent): a decision on key status changes its key
    clients, their sales and their coverage, and the dashboards must not wait for the beat."""
    return snapshot_quarter(quarter_start(timezone.localdate()))
