"""Celery tasks of the committee: a thin shell over ``governance.services``."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from governance.services import proposals_close_due


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def close_due_proposals() -> int:
    """Close every open proposal past its deadline; a missed beat is caught up by the next."""
    return proposals_close_due()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def remind_non_voters() -> int:
    """Remind members who have not voted when a deadline is a day away (once per proposal)."""
    from governance.notifications import remind_non_voters as remind

    return remind()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def escalate_overdue_exceptions() -> int:
    """Exception requests left unanswered past their deadline go one tier up."""
    from governance.mandates import exceptions_escalate_overdue

    return exceptions_escalate_overdue()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def remind_mandate_deadlines() -> int:
    """Remind approvers, department owners and incident owners of deadlines near (once each)."""
    from governance.notifications import remind_mandate_deadlines as remind

    return remind()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def snapshot_kpis() -> int:
    """Recompute the KPI snapshots of the current and the previous quarter (idempotent)."""
    from governance.kpis import snapshot_recent

    return snapshot_recent()
