"""The Celery application. Tasks live in each app's ``tasks.py`` and call its services."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from governance.record.context import Origin, origin_enter, origin_leave

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skam.settings")

app = Celery("skam")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The record names the task behind each write a worker makes (governance/record/).
_record_tokens: dict[str, object] = {}


@task_prerun.connect
def _record_task_start(task_id: str, task: object, **kwargs: object) -> None:
    origin = Origin(path="worker", origin=getattr(task, "name", "")[:200], request_id=task_id)
    _record_tokens[task_id] = origin_enter(origin)


@task_postrun.connect
def _record_task_end(task_id: str, **kwargs: object) -> None:
    token = _record_tokens.pop(task_id, None)
    if token is not None:
        origin_leave(token)
