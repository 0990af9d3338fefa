"""Writes of the ruler: drafting and adopting versions, coverage of needs, fit ratings."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Client, ClientNeed, User
from criteria.models import (
    USP,
    NeedCoverage,
    RulerCriterion,
    RulerStatus,
    RulerVersion,
    StrategicFitRating,
)


class RulerNotDraft(Exception):
    """Only a draft ruler version may be changed or adopted."""


def ruler_draft_create(*, title: str, based_on: RulerVersion | None = None) -> RulerVersion:
    """A new draft, copying the threshold, horizon and criteria of ``based_on`` if given."""
    with transaction.atomic():
        number = (RulerVersion.objects.aggregate(last=Max("number"))["last"] or 0) + 1
        draft = RulerVersion.objects.create(
            number=number,
            title=title,
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


def fit_rate(*, client: Client, rating: int, by: User, comment: str = "") -> StrategicFitRating:
    return StrategicFitRating.objects.create(
        client=client, rating=rating, rated_by=by, comment=comment
    )
