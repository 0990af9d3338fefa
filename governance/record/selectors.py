"""Who may read the record: the committee (``governance.view_recordentry``), nobody else."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from governance.models import RecordEntry
from governance.permissions import VIEW_RECORD


def record_visible_to(user: User) -> QuerySet[RecordEntry]:
    if not user.has_perm(VIEW_RECORD):
        return RecordEntry.objects.none()
    return RecordEntry.objects.all()
