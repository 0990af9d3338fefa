"""The dashboards' pages, kept built in Django's cache (Redis in production, local memory in the
embedded default).

Building a dashboard costs about ten queries and most of its time in laying out a few hundred
cells; reading it back costs one cache lookup. What is kept is the page's content — everything
below the navigation — under a key that names:

* the page: scope, object, the quarter asked for (or the default one);
* what differs between readers: language, time zone, and what the page offers only to some
  (the link back to the portfolio, the hint about the job's schedule), passed by the view;
* the database (test runs and agents sharing one Redis never read each other's pages);
* the data version: a token in the cache, replaced whenever a row the dashboards read is written.

The version is replaced by the code that writes snapshots and targets in bulk, which no signal
sees (``governance.kpis.snapshots`` and ``governance.kpis.figures`` call ``dashboards_changed``:
the snapshot job, hand entries, the targets page) and, through the signals below, by saves and
deletes of the other rows the pages read: targets written one by one, KPIs, policies, mandates
and their accounts, decisions, exception requests, budgets, clients and people, and the
proposals and incidents the drift block counts. Snapshots have
no signal: only ``governance.kpis`` writes them (the snapshot job, and hand entries in
``figures``), and a receiver would make Django delete them row by row.
Signals rather than calls in each service because those writes happen in a dozen services, the
admin and the API; keeping a page fresh is not a rule of the business, only of this cache.

Two things no signal sees: writes that bypass ``save()`` (bulk imports of figures, a finished
evaluation run's rows, ``QuerySet.update``) and what changes with the clock (a decision passing
its review date). For them a kept page lives ``CONTENT_TTL`` seconds at most, and says when its
figures were read. With the local-memory cache each process has its own version, so a write in
another process (the Celery worker's nightly job) shows within that minute too.

Permissions are never cached: the views ask ``governance.kpis.access`` before looking here, on
every request, the same function whether the page is then read back or built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone, translation

from accounts.models import User

# How long a kept page may be served: the bound on staleness for writes no signal sees.
CONTENT_TTL = 60
VERSION_KEY = "skam:dashboards:version"

# The rows the dashboards read, as "app_label.Model".
WATCHED_MODELS = (
    "accounts.Client",
    "accounts.ClientFigure",
    "accounts.User",
    "criteria.EvaluationRun",
    "governance.Budget",
    "governance.BudgetSpend",
    "governance.Decision",
    "governance.ExceptionRequest",
    "governance.Incident",
    "governance.Kpi",
    "governance.KpiTarget",
    "governance.Mandate",
    "governance.MandateAccount",
    "governance.Policy",
    "governance.Proposal",
)


def _new_version() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def dashboards_changed() -> None:
    """Something the dashboards show was written: pages kept so far are not read again.

    The version is replaced now (so the writer's next page is fresh even inside its
    transaction) and again after the commit (so a page built from the rows as they were
    before the commit, by a reader in between, is not served afterwards)."""
    _new_version()
    if connection.in_atomic_block and not any(
        func is _new_version for _sids, func, _robust in connection.run_on_commit
    ):
        transaction.on_commit(_new_version)


def data_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        version = cache.get(VERSION_KEY)
    return version


def page_key(scope: str, object_id: int | None, period: object, varies: str) -> str:
    """The key of one kept page; ``varies`` is what the page shows only to some readers. The
    data version is kept inside the value, so that one read fetches both."""
    return ":".join(
        (
            "skam:dashboard",
            str(connection.settings_dict["NAME"]),
            scope,
            str(object_id or ""),
            period.isoformat() if period else "default",
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            varies,
        )
    )


def kept_page(key: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The page kept under ``key`` for the current data version, or ``build()`` kept for
    ``CONTENT_TTL`` seconds. One read of the cache either way. The caller has checked who may
    see it (``governance.kpis.access``), as it does before building."""
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY) or data_version()
    kept = found.get(key)
    if kept is not None and kept["version"] == version:
        return kept["page"]
    page = build()
    cache.set(key, {"version": version, "page": page}, CONTENT_TTL)
    return page


def _on_write(sender: type, **kwargs: object) -> None:
    if sender._meta.label == "accounts.User" and kwargs.get("update_fields") == frozenset(
        {"last_login"}
    ):
        return  # a login changes nothing the dashboards show
    dashboards_changed()


def _roles_changed(sender: type, **kwargs: object) -> None:
    dashboards_changed()  # who is a KAM, and so which KAM pages exist


def connect_signals() -> None:
    """Called once the apps are ready (``GovernanceConfig.ready``)."""

    m2m_changed.connect(
        _roles_changed, sender=User.groups.through, dispatch_uid="dashboards-user-groups"
    )
    for label in WATCHED_MODELS:
        model = apps.get_model(label)
        post_save.connect(_on_write, sender=model, dispatch_uid=f"dashboards-{label}-save")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"dashboards-{label}-delete")
