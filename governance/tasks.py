"""Celery tasks of governance: a thin shell over the contexts' services.

Each task keeps its registered name (``governance.tasks.<name>``): beat's schedule rows store it.
"""

from __future__ import annotations

import logging

from celery import shared_task

from criteria.tasks import DATABASE_RETRIES
from governance.committee.notifications import remind_non_voters as remind_voters
from governance.committee.proposals import proposals_close_due

# The worker registers the committee's own tasks through this module (autodiscovery).
from governance.committee.tasks import draw_up_board_pack
from governance.kpis.snapshots import snapshot_recent, snapshots_missed
from governance.mail import mail_deliver_due
from governance.shell.exception_requests import exceptions_escalate_overdue
from governance.shell.notifications import remind_mandate_deadlines as remind_deadlines
from governance.webhooks import webhooks_deliver_due

logger = logging.getLogger(__name__)

__all__ = [
    "close_due_proposals",
    "draw_up_board_pack",
    "escalate_overdue_exceptions",
    "remind_mandate_deadlines",
    "remind_non_voters",
    "snapshot_kpis",
]


@shared_task(**DATABASE_RETRIES)
def close_due_proposals() -> int:
    """Close every open proposal past its deadline; a missed beat is caught up by the next."""
    return proposals_close_due()


@shared_task(**DATABASE_RETRIES)
def remind_non_voters() -> int:
    """Remind members who have not voted when a deadline is a day away (once per proposal)."""
    queued = remind_voters()
    mail_deliver_due()
    return queued


@shared_task(**DATABASE_RETRIES)
def escalate_overdue_exceptions() -> int:
    """Exception requests left unanswered past their deadline go one tier up."""
    return exceptions_escalate_overdue()


@shared_task(**DATABASE_RETRIES)
def remind_mandate_deadlines() -> int:
    """Remind approvers, department owners and incident owners of deadlines near (once each)."""
    queued = remind_deadlines()
    mail_deliver_due()
    return queued


@shared_task(**DATABASE_RETRIES)
def snapshot_kpis() -> int:
    """Recompute the KPI snapshots of the current and the previous quarter (idempotent)."""
    return snapshot_recent()


@shared_task(**DATABASE_RETRIES)
def snapshot_kpis_if_missed() -> int | None:
    """Catch up a nightly snapshot that no beat sent (every 5 minutes on the beat): it is
    computed at once, once."""
    if not snapshots_missed():
        return None
    logger.warning("The nightly KPI snapshot was missed: it is computed now.")
    return snapshot_recent()


@shared_task(**DATABASE_RETRIES)
def deliver_mail() -> int:
    """Send the outbox's letters that are due (every 30 s on the beat); a refused letter waits
    for its own next attempt, so this task itself never retries a send."""
    return mail_deliver_due()


@shared_task(**DATABASE_RETRIES)
def deliver_webhooks() -> int:
    """Post the webhook deliveries that are due (every 30 s on the beat); a failed one waits
    for its own next attempt, so this task itself never retries a post."""
    return webhooks_deliver_due()
