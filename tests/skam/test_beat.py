"""One beat sends: a second beat started beside it sends nothing until the first is gone, and
then takes over from what the database says was sent."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from skam.beat import SingleBeatScheduler
from skam.celery import app

# The scheduler closes the database connections it finds old, as a beat does between ticks:
# outside a test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def beat(sent: list[str]) -> SingleBeatScheduler:
    """A beat whose sends are recorded instead of reaching the broker."""
    scheduler = SingleBeatScheduler(app=app, lazy=True)
    scheduler.__dict__["producer"] = None  # no broker connection
    scheduler.apply_entry = lambda entry, producer=None: sent.append(entry.task)
    return scheduler


def test_a_second_beat_sends_nothing_until_the_first_is_gone() -> None:
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.create(
        name="Beat test",
        task="governance.tasks.close_due_proposals",
        interval=every_minute,
        last_run_at=timezone.now() - datetime.timedelta(minutes=2),  # due
    )
    first_sent: list[str] = []
    second_sent: list[str] = []
    first, second = beat(first_sent), beat(second_sent)
    try:
        for _ in range(10):
            first.tick()
            second.tick()
        assert (first.holds_lock(), second.holds_lock()) == (True, False)
        assert "governance.tasks.close_due_proposals" in first_sent  # due tasks were sent…
        assert second_sent == []  # …by one beat only
        assert len(first_sent) == len(set(first_sent))  # each once

        first.release_lock()  # the first beat dies: its database session, and lock, with it
        for _ in range(10):
            second.tick()
        assert second.holds_lock() is True
        assert first.holds_lock() is False
    finally:
        first.close()  # writes what it sent, as a beat stopping does; and lets the lock go
        second.close()


def test_the_beat_is_the_lock_holding_scheduler(settings) -> None:
    assert settings.CELERY_BEAT_SCHEDULER == "skam.beat:SingleBeatScheduler"
    assert settings.CELERY_BEAT_SYNC_EVERY == 1
