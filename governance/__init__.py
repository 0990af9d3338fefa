"""governance: how the company governs its key accounts, in three contexts.

The method (../shared/DESIGN.md) and where each part of it lives:

* **The committee decides** (``committee/``): its members and their interests, the policy
  (horizon, how many key clients and what share of sales, how far we bend), meetings and their
  agendas, proposals with the ruler's evidence frozen, votes, decisions and their review dates,
  and drift: what was decided by nobody.
* **The management shell around every KAM** (``shell/``), the seven questions: (1) who works a
  key client, alone or as a team, (2) with which relationship methods, (3) the mandate's limits
  and who decides past them, (4) what departments owe the KAM, (5) budgets, (6) exceptional
  situations, and exception requests, with deputies standing in for those away.
* **KPIs and the directors' dashboards** (``kpis/``): (7) what a KAM carries, targets per
  mandate and quarter, actuals stored as snapshots, and the portfolio, KAM and account pages.

Arrows point one way: ``committee`` → ``shell`` → ``kpis`` → the leaves ``recipients`` (who
must hear or act) and ``mail`` → ``models`` (one module per context, re-exported). import-linter
checks it (pyproject.toml).
"""
