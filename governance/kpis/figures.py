"""What people write into the KPIs: hand-entered actuals, and a mandate's targets (checked and
saved in a fixed number of queries, recorded for a granted mandate).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Client, User
from accounts.periods import quarter_start, validate_quarter_start
from accounts.refusals import STATE, NotAllowed
from governance.kpis.cache import dashboards_changed
from governance.kpis.counting import PORTFOLIO, mandate_for_quarter, scope_key_of
from governance.kpis.snapshots import quantized
from governance.models import (
    Kpi,
    KpiEntry,
    KpiScope,
    KpiSnapshot,
    KpiSource,
    KpiTarget,
    KpiUnit,
    Mandate,
    MandateAccount,
    MandateStatus,
)

# Hand entries --------------------------------------------------------------------------------

MAX_PERCENT = Decimal(1000)
MAX_MONEY = Decimal("99999999999999.99")


def value_error(kpi: Kpi, value: Decimal) -> str | None:
    if kpi.unit == KpiUnit.PERCENT and not Decimal(0) <= value <= MAX_PERCENT:
        return gettext("A percentage is between 0 and 1000.")
    if kpi.unit == KpiUnit.COUNT and (value < 0 or value != value.to_integral_value()):
        return gettext("A count is a whole number, 0 or more.")
    if kpi.unit == KpiUnit.MONEY and abs(value) > MAX_MONEY:
        return gettext("This amount is too large.")
    return None


def kpi_entry_record(
    *,
    kpi: Kpi,
    period: datetime.date,
    kam: User,
    client: Client | None,
    value: Decimal,
    note: str,
    by: User,
) -> KpiEntry:
    """Record a hand-entered actual and refresh its snapshot (and the portfolio's average).

    Refused with a ``ValidationError`` by field: the KPI is not entered by hand; the period is
    not a quarter's first day or lies in the future; the person holds no mandate for that
    quarter; the account is not in that mandate; the value is out of bounds for the unit. An
    entry is never changed: a correction is a new entry, and the latest one counts. Nobody
    records their own actuals (``NotAllowed``).
    """
    errors: dict[str, str | ValidationError] = {}
    value = Decimal(value)
    if kpi.source != KpiSource.MANUAL:
        errors["kpi"] = gettext("This KPI is computed from the data; it is not entered by hand.")
    if error := _not_a_quarter(period):
        errors["period"] = error
    elif period > quarter_start(timezone.localdate()):
        errors["period"] = ValidationError(gettext("This quarter has not started yet."), STATE)
    mandate = None
    if "period" not in errors:
        mandate = mandate_for_quarter(kam=kam, period=period)
        if mandate is None:
            errors["kam"] = ValidationError(
                gettext("This person holds no mandate for that quarter."), STATE
            )
        elif (
            client is not None
            and not MandateAccount.objects.filter(mandate=mandate, client=client).exists()
        ):
            errors["client"] = ValidationError(
                gettext("This account is not in the mandate for that quarter."), STATE
            )
    problem = value_error(kpi, value)
    if problem:
        errors["value"] = problem
    if errors:
        raise ValidationError(errors)
    if kam.pk == by.pk:
        raise NotAllowed(
            gettext("Nobody records the actuals they are measured by: another person does.")
        )

    now = timezone.now()
    client_id = client.pk if client is not None else None
    with transaction.atomic():
        entry = KpiEntry.objects.create(
            kpi=kpi, period=period, kam=kam, client=client, value=value, note=note, entered_by=by
        )
        scope = KpiScope.ACCOUNT if client_id else KpiScope.KAM
        KpiSnapshot.objects.update_or_create(
            kpi=kpi,
            period=period,
            scope_key=scope_key_of(kam_id=kam.pk, client_id=client_id),
            defaults={
                "scope": scope,
                "kam": kam,
                "client_id": client_id,
                "value": quantized(value),
                "computed_at": now,
            },
        )
        if client_id is None:
            average = KpiSnapshot.objects.filter(
                kpi=kpi, period=period, scope=KpiScope.KAM
            ).aggregate(average=Avg("value"))["average"]
            KpiSnapshot.objects.update_or_create(
                kpi=kpi,
                period=period,
                scope_key=PORTFOLIO,
                defaults={
                    "scope": KpiScope.PORTFOLIO,
                    "value": quantized(average),
                    "computed_at": now,
                },
            )
        dashboards_changed()
    return entry


# Targets -------------------------------------------------------------------------------------


def _not_a_quarter(period: datetime.date) -> str:
    """Why ``period`` is not a quarter's first day (the register's rule), or ""."""
    try:
        validate_quarter_start(period)
    except ValidationError as exc:
        return exc.messages[0]
    return ""


def kpi_target_errors(
    *,
    mandate: Mandate,
    kpi: Kpi,
    period: datetime.date,
    client: Client | None,
    target_id: int | None = None,
) -> dict[str, ValidationError]:
    """What is wrong with a target for a mandate, by field (empty when it is fine): the period
    is a quarter's first day, the account is one of the mandate's (``STATE``), one target per
    KPI, quarter and account, or the whole mandate (``unique``)."""
    errors: dict[str, ValidationError] = {}
    if error := _not_a_quarter(period):
        errors["period"] = ValidationError(error, "invalid")
    if client is not None and not mandate.accounts.filter(client=client).exists():
        errors["client"] = ValidationError(gettext("This account is not in the mandate."), STATE)
    twins = KpiTarget.objects.filter(mandate=mandate, kpi=kpi, period=period, client=client)
    if target_id is not None:
        twins = twins.exclude(pk=target_id)
    if "period" not in errors and twins.exists():
        errors["period"] = ValidationError(
            gettext("This KPI already has a target for that quarter and account."), "unique"
        )
    return errors


def kpi_targets_log(*, mandate: Mandate, by: User, message: str) -> None:
    """Record who changed a mandate's targets and how, in the admin's history of the mandate
    (targets of a draft are prepared freely; those of a granted mandate change on the record)."""

    if mandate.status == MandateStatus.DRAFT:
        return
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[mandate],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


@dataclass(frozen=True)
class TargetRow:
    """One row of a mandate's targets as the committee left it on the page: ``id`` names the
    target it shows (None for a new one)."""

    id: int | None
    kpi_id: int
    period: datetime.date
    client_id: int | None
    target: Decimal
    delete: bool = False


def kpi_targets_refuse_own(*, mandate: Mandate, by: User) -> None:
    """Nobody sets the targets they are measured by: not the mandate's own KAM, even when
    they sit on the committee (``NotAllowed``)."""
    if mandate.kam_id == by.pk:
        raise NotAllowed(
            gettext("These are the targets of your own mandate: another member sets them.")
        )


def kpi_targets_save(*, mandate: Mandate, by: User, rows: Iterable[TargetRow]) -> list[str]:
    """Write a mandate's targets as the committee left them: new ones added, changed ones
    updated, those marked removed deleted, in a fixed number of statements however many rows.
    The rows were checked by the form (quarters, the mandate's accounts, no two alike); here,
    that the targets they name are still this mandate's, and the database's rule of one target
    per KPI, quarter and account against what was saved meanwhile. Returns what changed, also
    recorded for a granted mandate (``kpi_targets_log``)."""
    kpi_targets_refuse_own(mandate=mandate, by=by)
    rows = list(rows)
    with transaction.atomic():
        # Under the mandate's row lock, as a vote opening on it takes it: a draft before the
        # committee keeps the targets it is voted with.
        if Mandate.objects.select_for_update().filter(pk=mandate.pk, under_vote=True).exists():
            raise ValidationError(
                gettext(
                    "This mandate is before the committee: its targets cannot change while the "
                    "vote is open."
                )
            )
        existing = {
            target.pk: target
            for target in KpiTarget.objects.select_for_update(of=("self",))
            .select_related("kpi", "client")
            .filter(mandate=mandate)
        }
        if any(row.id is not None and row.id not in existing for row in rows):
            raise ValidationError(
                gettext(
                    "A target on this page was removed meanwhile: reload the page and make "
                    "your changes again."
                )
            )
        kpis = Kpi.objects.in_bulk({row.kpi_id for row in rows})
        added, changed, removed = [], [], []
        for row in rows:
            if row.id is None:
                if not row.delete:
                    added.append(
                        KpiTarget(
                            mandate=mandate,
                            kpi=kpis[row.kpi_id],
                            period=row.period,
                            client_id=row.client_id,
                            target=row.target,
                        )
                    )
                continue
            target = existing[row.id]
            if row.delete:
                removed.append(target)
            elif (target.kpi_id, target.period, target.client_id, target.target) != (
                row.kpi_id,
                row.period,
                row.client_id,
                row.target,
            ):
                target.kpi, target.period = kpis[row.kpi_id], row.period
                target.client_id, target.target = row.client_id, row.target
                changed.append(target)
        try:
            with transaction.atomic():
                KpiTarget.objects.filter(pk__in=[target.pk for target in removed]).delete()
                KpiTarget.objects.bulk_update(changed, ["kpi", "period", "client", "target"])
                KpiTarget.objects.bulk_create(added)
        except IntegrityError:
            raise ValidationError(
                gettext(
                    "Two targets for the same KPI, quarter and account: another change was "
                    "saved meanwhile. Reload the page and make your changes again."
                )
            ) from None
        changes = [
            *(gettext("set %(target)s") % {"target": target} for target in added),
            *(gettext("changed %(target)s") % {"target": target} for target in changed),
            *(gettext("removed %(target)s") % {"target": target} for target in removed),
        ]
        if changes:
            # Bulk writes send no signals: the dashboards are told here.
            dashboards_changed()
            kpi_targets_log(
                mandate=mandate,
                by=by,
                message=gettext("KPI targets: %(changes)s") % {"changes": "; ".join(changes)},
            )
    return changes
