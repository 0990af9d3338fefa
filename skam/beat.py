"""Beat, once: of all the beats started, one sends; the others wait to take over.

django-celery-beat's scheduler, keeping its schedule in the database (editable by the
administrator), behind a lock that dies with its holder: a PostgreSQL advisory lock held by a
connection of its own (a beat killed, or its database connection lost, releases it), or, on
the embedded SQLite default, an exclusive lock on a file in ``var/``. A beat without the lock
sends nothing and tries again at every tick; the one that takes the lock over reads the
schedule afresh from the database, where every send is written at once
(``CELERY_BEAT_SYNC_EVERY = 1``), so it sends neither twice nor nothing.

Sends the broker refused (Redis down) and daily jobs missed while no beat ran are not the
scheduler's business: the tasks' own watchdogs catch up from the domain's state (a nightly
re-evaluation with no run since its hour is started by ``criteria.tasks.reevaluate_if_missed``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from typing import IO, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# pg_try_advisory_lock's key: "skambeat" as a 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"skambeat", "big") - 2**63


class SingleBeatScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock_connection: Any = None
        self._lock_file: IO[str] | None = None
        self._leading = False
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        leading = self.holds_lock()
        if leading and not self._leading:
            logger.warning("This beat holds the lock: it sends the schedule.")
            # What another beat sent meanwhile is in the database: read it, not our memory.
            self._initial_read = True
            self._heap = None
        elif not leading and self._leading:
            logger.warning("This beat lost the lock: it stops sending.")
        self._leading = leading
        if not leading:
            return self.max_interval
        return super().tick(*args, **kwargs)

    def holds_lock(self) -> bool:
        """Whether this beat is the one that sends; takes the lock when it is free."""
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            return self._advisory_lock()
        return self._file_lock()

    def _advisory_lock(self) -> bool:
        try:
            if self._lock_connection is None:
                self._lock_connection = connections.create_connection(DEFAULT_DB_ALIAS)
            with self._lock_connection.cursor() as cursor:
                if self._leading:
                    cursor.execute("SELECT 1")  # the session lives: the lock is still ours
                    return True
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
                return bool(cursor.fetchone()[0])
        except DatabaseError:
            logger.warning("The beat's lock connection failed: the lock is lost.", exc_info=True)
            self.release_lock()
            return False

    def _file_lock(self) -> bool:
        if self._lock_file is None:
            self._lock_file = open(settings.VAR_DIR / "beat.lock", "a")  # noqa: SIM115 - held while the beat lives
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release_lock(self) -> None:
        if self._lock_connection is not None:
            with contextlib.suppress(DatabaseError):
                self._lock_connection.close()
            self._lock_connection = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self._leading = False

    def close(self) -> None:
        super().close()
        self.release_lock()
