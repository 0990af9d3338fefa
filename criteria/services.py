"""Writes of the ruler: drafting and adopting versions, coverage of needs, fit ratings."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import Client, ClientNeed, User
from accounts.refusals import ChangedMeanwhile
from criteria.models import (
    USP,
    EvaluationRun,
    NeedCoverage,
    ReviewItem,
    RulerCriterion,
    RulerStatus,
    RulerTitle,
    RulerVersion,
    StrategicFitRating,
)


class RulerNotDraft(ChangedMeanwhile):
    """Only a draft ruler version may be changed or adopted."""


class RulerUnderVote(RulerNotDraft):
    """The draft is before the committee: what it votes on is what it adopts."""


def ruler_draft_create(*, title: str = "", based_on: RulerVersion | None = None) -> RulerVersion:
    """A new draft, copying the threshold, horizon and criteria of ``based_on`` if given.

    Given no title, SKAM titles it — "First ruler", "Draft based on v3 …" — as data, said in
    each reader's language (``RulerVersion.title``), not in the creator's.

    Numbers follow the highest so far; when two drafts are created at once and take the same
    number, the unique constraint refuses one and it takes the next number."""
    for attempt in range(5):
        try:
            with transaction.atomic():
                return _ruler_draft_insert(title=title, based_on=based_on)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _ruler_draft_insert(*, title: str, based_on: RulerVersion | None) -> RulerVersion:
    number = (RulerVersion.objects.aggregate(last=Max("number"))["last"] or 0) + 1
    kind, values = "", {}
    if not title:
        kind = RulerTitle.BASED_ON if based_on else RulerTitle.FIRST
        # The base's typed title names it; an automatic one would only stack "based on"s.
        values = {"number": based_on.number, "title": based_on.typed_title} if based_on else {}
    draft = RulerVersion.objects.create(
        number=number,
        typed_title=title,
        title_kind=kind,
        title_values=values,
        coverage_threshold=based_on.coverage_threshold if based_on else Decimal("0.75"),
        horizon_months=based_on.horizon_months if based_on else 12,
        concession_rate=based_on.concession_rate if based_on else Decimal("0.10"),
    )
    if based_on:
        RulerCriterion.objects.bulk_create(
            RulerCriterion(
                ruler=draft,
                kind=c.kind,
                direction=c.direction,
                threshold=c.threshold,
                is_gate=c.is_gate,
                weight=c.weight,
            )
            for c in based_on.criteria.all()
        )
    return draft


ADOPTED_IS_IMMUTABLE = _lazy("An adopted ruler version cannot be changed; draft a new version.")
UNDER_VOTE_IS_FROZEN = _lazy(
    "This draft is before the committee: it cannot change while the vote is open. Withdraw the "
    "proposal to change it."
)


@contextmanager
def ruler_draft_locked(*, ruler: RulerVersion) -> Iterator[RulerVersion]:
    """Hold the draft's row lock for a change: an adoption that committed first makes this
    refuse (``RulerNotDraft``), and so does a vote opened on it (``RulerUnderVote``); a vote
    opened later waits for the change and freezes the changed draft."""
    with transaction.atomic():
        draft = RulerVersion.objects.select_for_update().get(pk=ruler.pk)
        if not draft.is_draft:
            raise RulerNotDraft(str(ADOPTED_IS_IMMUTABLE))
        if draft.under_vote:
            raise RulerUnderVote(str(UNDER_VOTE_IS_FROZEN))
        yield draft


def ruler_draft_change(
    *,
    ruler: RulerVersion,
    changes: dict[str, Any],
    criteria: list[dict[str, Any]] | None = None,
) -> RulerVersion:
    """Change a draft's fields and, when ``criteria`` is given, replace its criteria with them."""
    with ruler_draft_locked(ruler=ruler) as draft:
        for name, value in changes.items():
            setattr(draft, name, value)
        if changes:
            # ``title`` is what a person types: the column behind it is ``typed_title``.
            fields = ["typed_title" if name == "title" else name for name in changes]
            draft.save(update_fields=fields)
        if criteria is not None:
            draft.criteria.all().delete()
            RulerCriterion.objects.bulk_create(
                RulerCriterion(ruler=draft, **criterion) for criterion in criteria
            )
    return draft


def ruler_adopt(*, ruler: RulerVersion, by: User) -> RulerVersion:
    """Put a draft in force; the version in force until now is superseded. Race-safe: of two
    adoptions of one draft at once, one wins and the other finds it no longer a draft; two
    drafts adopted at once are adopted one after the other, and the later one is in force."""
    with transaction.atomic():
        # Lock every version (there are few), in one statement and a fixed order, before
        # looking: an adoption that waited for another to commit then sees the version that one
        # put in force and supersedes it. (Locking the draft and the version in force apart
        # missed it, and the two collided on the one-in-force constraint.)
        versions = {v.pk: v for v in RulerVersion.objects.select_for_update().order_by("pk")}
        draft = versions[ruler.pk]
        if draft.status != RulerStatus.DRAFT:
            raise RulerNotDraft(
                _("Only a draft can be adopted; this version is %(status)s.")
                % {"status": draft.get_status_display()}
            )
        RulerVersion.objects.filter(status=RulerStatus.IN_FORCE).update(
            status=RulerStatus.SUPERSEDED
        )
        draft.status = RulerStatus.IN_FORCE
        draft.adopted_at = timezone.now()
        draft.adopted_by = by
        draft.save(update_fields=["status", "adopted_at", "adopted_by"])
    return draft


def coverage_set(*, need: ClientNeed, usp: USP, degree: Decimal) -> NeedCoverage | None:
    """Record how far ``usp`` meets ``need``; a degree of 0 removes the link."""
    if not Decimal(0) <= degree <= Decimal(1):
        raise ValueError("degree must be between 0 and 1")
    if degree == 0:
        NeedCoverage.objects.filter(need=need, usp=usp).delete()
        return None
    coverage, _created = NeedCoverage.objects.update_or_create(
        need=need, usp=usp, defaults={"degree": degree}
    )
    return coverage


def review_items_settle(*, client_id: int, at: datetime.datetime) -> int:
    """The committee has decided the client's key status: the disagreement a run flagged for it
    is answered, so its open review item closes now rather than at the next run (which opens a
    new one if verdict and the decided status still differ). Returns the items closed."""
    return ReviewItem.objects.filter(client_id=client_id, closed_at__isnull=True).update(
        closed_at=at
    )


def fit_rate(*, client: Client, rating: int, by: User, comment: str = "") -> StrategicFitRating:
    return StrategicFitRating.objects.create(
        client=client, rating=rating, rated_by=by, comment=comment
    )


REEVALUATION_TASK = "Re-evaluate every client against the ruler"  # its PeriodicTask's name
_CADENCE_CRONTAB = {  # at 02:00 in the company's time zone
    "nightly": {"day_of_week": "*", "day_of_month": "*", "month_of_year": "*"},
    "weekly": {"day_of_week": "1", "day_of_month": "*", "month_of_year": "*"},
    "monthly": {"day_of_week": "*", "day_of_month": "1", "month_of_year": "*"},
    "quarterly": {"day_of_week": "*", "day_of_month": "1", "month_of_year": "1,4,7,10"},
}


# A scheduled run counts as missed only this long after its hour: the beat's own send of it may
# still be waiting in the queue.
CATCH_UP_AFTER = datetime.timedelta(minutes=15)


def reevaluation_missed() -> bool:
    """Whether the scheduled re-evaluation's hour has passed (by ``CATCH_UP_AFTER``) since the
    last run was created: no beat ran then, or the broker refused the send. The beat's own
    bookkeeping cannot tell; the runs can. False before the first run or with the schedule
    disabled."""
    task = (
        PeriodicTask.objects.filter(name=REEVALUATION_TASK, enabled=True)
        .select_related("crontab")
        .first()
    )
    last = EvaluationRun.objects.order_by("-created_at").values_list("created_at", flat=True)[:1]
    if task is None or task.crontab is None or not last:
        return False
    schedule = task.crontab.schedule
    since = last[0].astimezone(schedule.tz)
    return schedule.remaining_estimate(since) <= -CATCH_UP_AFTER


def reevaluation_schedule_set(*, cadence: str) -> None:
    """Point the re-evaluation's periodic task at the crontab of ``cadence``."""

    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", timezone=settings.TIME_ZONE, **_CADENCE_CRONTAB[cadence]
    )
    PeriodicTask.objects.update_or_create(
        name=REEVALUATION_TASK,
        defaults={"task": "criteria.tasks.reevaluate_all", "crontab": crontab, "interval": None},
    )
