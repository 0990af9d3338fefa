"""Two real beats started at once send the schedule once; the second takes over when the first
is killed. A task due every second is counted on a throwaway Redis broker (no worker)."""

from __future__ import annotations

import time

import pytest
import redis as redis_py
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.faults.servers import celery_beat, kill_session, throwaway_redis

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_two_beats_send_once_and_the_second_takes_over() -> None:
    PeriodicTask.objects.update(enabled=False)  # only ours is counted
    every_second, _created = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(
        name="Fault test tick", task="governance.tasks.snapshot_kpis", interval=every_second
    )
    database = "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict)

    with throwaway_redis() as redis:
        broker = redis_py.Redis.from_url(redis.url)
        cache = redis.url.replace("/0", "/1")
        with (
            celery_beat(database=database, broker=redis.url, cache=cache) as first,
            celery_beat(database=database, broker=redis.url, cache=cache),
        ):
            # Both started; wait for the first send, then count for 8 s.
            deadline = time.monotonic() + 60
            while not broker.llen("celery") and time.monotonic() < deadline:
                time.sleep(0.1)
            before, started = broker.llen("celery"), time.monotonic()
            time.sleep(8)
            both = broker.llen("celery") - before
            both_seconds = time.monotonic() - started

            kill_session(first)  # either may have been the leader: one of them is left
            killed_at, count_at_kill = time.monotonic(), broker.llen("celery")
            while broker.llen("celery") == count_at_kill and time.monotonic() - killed_at < 30:
                time.sleep(0.1)
            took_over = time.monotonic() - killed_at
        broker.close()

    print(
        f"\nTwo beats, a task due every second: {both} sends in {both_seconds:.1f} s; "
        f"one beat killed, sends went on {took_over:.1f} s later"
    )
    assert both <= both_seconds + 1  # once a second, not twice
    assert both >= both_seconds / 2 - 1
    assert took_over < 30
