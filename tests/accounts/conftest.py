"""What the register's tests share."""

from __future__ import annotations

from typing import Any

import pytest

from skam.celery import app as celery_app


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks) -> Any:
    """The worker, eagerly: ``worker(lambda: http.post(…))`` makes the request, then runs the
    tasks it queued after its commit, in this thread and on the test's database."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", True)

    def run(request: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return request()

    return run
