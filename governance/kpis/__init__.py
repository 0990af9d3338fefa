"""KPIs and the directors' dashboards: which mandate counts in a quarter (``counting``), actuals
(``snapshots``), states against targets (``states``), what people enter (``figures``), who may
see which dashboard (``access``), the dashboards themselves (``dashboards/``), their cache and
exports."""
