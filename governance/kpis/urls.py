"""Pages of the KPIs: the directors' dashboards, hand-entered actuals and a mandate's targets."""

from django.urls import path

from governance.kpis.views import dashboards, figures

urlpatterns = [
    path("dashboards/", dashboards.dashboard_portfolio, name="dashboard-portfolio"),
    path("dashboards/kam/<int:pk>/", dashboards.dashboard_kam, name="dashboard-kam"),
    path("dashboards/account/<int:pk>/", dashboards.dashboard_account, name="dashboard-account"),
    path("mandates/<int:pk>/targets/", figures.mandate_targets, name="mandate-targets"),
    path("kpis/entries/", figures.kpi_entries, name="kpi-entries"),
]
