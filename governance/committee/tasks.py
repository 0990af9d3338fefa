"""The committee's background work that its pages ask for: drawing up a board pack. A thin
shell over the service; ``governance.tasks`` imports it so that the worker knows it."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from governance.committee.board_pack import board_pack_generate


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=5 * 60,
    time_limit=6 * 60,
)
def draw_up_board_pack(pack_id: int) -> bool:
    """Draw up a queued board pack (once, however often the message is delivered)."""
    return board_pack_generate(pack_id=pack_id) is not None
