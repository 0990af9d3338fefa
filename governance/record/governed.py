"""Which tables the record keeps. A new governed table is one line in ``GOVERNED``; a column
another change adds to a governed table is recorded with no change here (the triggers record
whole rows). Every model of SKAM's apps is named in one list or the other, so that a new
model is a choice, not an oversight (``tests/governance/record/test_triggers.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models

# "app.Model" for a model's table, "app.Model.field" for a many-to-many field's table.
GOVERNED: tuple[str, ...] = (
    # The committee: seats, proposals, votes, recusals, decisions, policy, meetings, interests.
    "governance.CommitteeMember",
    "governance.Proposal",
    "governance.Vote",
    "governance.Recusal",
    "governance.Decision",
    "governance.Policy",
    "governance.PolicyRule",
    "governance.Meeting",
    "governance.AgendaItem",
    "governance.Attendance",
    "governance.MemberInterest",
    # The ruler and what feeds it.
    "criteria.RulerVersion",
    "criteria.RulerCriterion",
    "criteria.USP",
    "criteria.NeedCoverage",
    "criteria.StrategicFitRating",
    # The management shell.
    "governance.Mandate",
    "governance.Mandate.methods",
    "governance.MandateAccount",
    "governance.MandateBudget",
    "governance.MandateTeamMember",
    "governance.RelationshipMethod",
    "governance.EscalationTier",
    "governance.ExceptionRequest",
    "governance.Absence",
    "governance.Budget",
    "governance.BudgetSpend",
    "governance.DepartmentObligation",
    "governance.DepartmentRequest",
    "governance.SituationType",
    "governance.Incident",
    "governance.IncidentUpdate",
    "governance.Kpi",
    "governance.KpiTarget",
    "governance.KpiEntry",
    # The register: clients (their key status), teams, needs and figures, imports.
    "accounts.Client",
    "accounts.AccountTeamMember",
    "accounts.ClientNeed",
    "accounts.ClientFigure",
    "accounts.ImportBatch",
    # People and their roles.
    "accounts.User",
    "accounts.User.groups",
    "accounts.User.user_permissions",
    "auth.Group.permissions",
    # Where SKAM sends what it governs: who registered, changed or paused an endpoint.
    "governance.WebhookEndpoint",
)

# Columns never copied into the record: secrets, a file's bytes (its name and counts are
# kept), the time of the last sign-in (a change of it alone is no entry), and a client's copy
# of its owner's last name (kept by the database for sorting; the owner is recorded).
NOT_COPIED: dict[str, tuple[str, ...]] = {
    "accounts.Client": ("owner_kam_last_name",),
    "accounts.User": ("password", "last_login"),
    "accounts.ImportBatch": ("content",),
    "governance.WebhookEndpoint": ("secret",),
}

# Columns the database keeps beside a model's fields, which no field names: a client's team
# members' ids (migration ``accounts/0015``, for the register's visibility), copies of the
# team's rows, which are recorded.
KEPT_BY_DATABASE: dict[str, tuple[str, ...]] = {
    "accounts.Client": ("team_ids",),
}

# SKAM's own models that are not recorded, and why.
NOT_RECORDED: dict[str, str] = {
    "governance.RecordEntry": "the record itself",
    "criteria.EvaluationRun": "worked out from the ruler and the register, again at will",
    "criteria.EvaluationChunk": "worked out from the ruler and the register, again at will",
    "criteria.Evaluation": "worked out from the ruler and the register, again at will",
    "criteria.ReviewItem": "worked out from the ruler and the register, again at will",
    "governance.KpiSnapshot": "worked out from the KPI actuals, again at will",
    "governance.PortfolioSnapshot": "worked out from the register, again at will",
    "accounts.FilterChoice": "worked out from the register, kept by its writes",
    "accounts.NeedChange": "the register's own note of who changed needs, which are recorded",
    "governance.BoardPack": "a document drawn up from the record, again at will",
    "governance.CalendarFeed": "a person's private calendar address, not an act of governance",
    "governance.OutgoingMail": "letters telling of recorded events; the outbox keeps their state",
    "governance.WebhookEvent": "webhooks telling of recorded events",
    "governance.WebhookDelivery": "the webhooks' delivery log keeps its own state",
    "accounts.ImportRow": "an uploaded file's check, worked out from the file again at will",
    "accounts.ImportProgress": "how far the worker is with a file, noted every chunk",
}

# The apps whose every model is classified above.
OUR_APPS = ("accounts", "criteria", "governance")


@dataclass(frozen=True)
class GovernedTable:
    label: str
    model: type[models.Model]
    table: str
    pk_column: str
    not_copied: tuple[str, ...]


def governed_tables() -> list[GovernedTable]:
    """The governed tables, resolved from the models (a renamed table follows its model)."""
    tables = []
    for label in GOVERNED:
        app_label, model_name, *field = label.split(".")
        model: type[models.Model] = apps.get_model(app_label, model_name)
        if field:
            model = model._meta.get_field(field[0]).remote_field.through
        not_copied = tuple(
            model._meta.get_field(name).column for name in NOT_COPIED.get(label, ())
        ) + KEPT_BY_DATABASE.get(label, ())
        tables.append(
            GovernedTable(label, model, model._meta.db_table, model._meta.pk.column, not_copied)
        )
    return tables
