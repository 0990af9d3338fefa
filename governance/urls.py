from django.urls import path

from governance import dashboard_views as dashboards
from governance import kpi_views, views
from governance import meeting_views as meeting_pages
from governance import shell_views as shell

app_name = "governance"

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposal-list"),
    path("proposals/new/", views.proposal_new, name="proposal-new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/close/", views.proposal_close_view, name="proposal-close"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw_view, name="proposal-withdraw"),
    path("proposals/<int:pk>/recuse/", views.proposal_recuse_view, name="proposal-recuse"),
    path("decisions/<int:pk>/revisit/", views.decision_revisit, name="decision-revisit"),
    path("decisions/", views.decision_register, name="decision-list"),
    path("drift/", views.drift_panel, name="drift"),
    path("dashboards/", dashboards.dashboard_portfolio, name="dashboard-portfolio"),
    path("dashboards/kam/<int:pk>/", dashboards.dashboard_kam, name="dashboard-kam"),
    path("dashboards/account/<int:pk>/", dashboards.dashboard_account, name="dashboard-account"),
    path("policy/", views.policy_overview, name="policy"),
    path("my-mandate/", views.my_mandate, name="my-mandate"),
    path("budgets/spend/", views.budget_spend_view, name="budget-spend"),
    path("departments/", views.department_board, name="departments"),
    path("departments/request/", views.department_request_view, name="department-request"),
    path("departments/<int:pk>/fulfil/", views.department_fulfil_view, name="department-fulfil"),
    path("exceptions/", views.exception_list, name="exception-list"),
    path("exceptions/new/", views.exception_new, name="exception-new"),
    path("exceptions/<int:pk>/decide/", views.exception_decide_view, name="exception-decide"),
    path("mandates/", views.mandate_list, name="mandate-list"),
    path("mandates/<int:pk>/", views.mandate_detail, name="mandate-detail"),
    path("mandates/<int:pk>/targets/", kpi_views.mandate_targets, name="mandate-targets"),
    path("kpis/entries/", kpi_views.kpi_entries, name="kpi-entries"),
    path("incidents/", shell.incident_list, name="incident-list"),
    path("incidents/new/", shell.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", shell.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/take/", shell.incident_take_view, name="incident-take"),
    path("incidents/<int:pk>/close/", shell.incident_close_view, name="incident-close"),
    path("incidents/<int:pk>/note/", shell.incident_note_view, name="incident-note"),
    path("playbook/", shell.playbook, name="playbook"),
    path("absences/", shell.absence_list, name="absence-list"),
    path("absences/<int:pk>/end/", shell.absence_end, name="absence-end"),
    path("budgets/", shell.budget_list, name="budget-list"),
    path("meetings/", meeting_pages.meeting_list, name="meeting-list"),
    path("meetings/new/", meeting_pages.meeting_new, name="meeting-new"),
    path("meetings/<int:pk>/", meeting_pages.meeting_detail, name="meeting-detail"),
    path(
        "meetings/<int:pk>/agenda/build/",
        meeting_pages.meeting_agenda_build,
        name="meeting-agenda-build",
    ),
    path(
        "meetings/<int:pk>/agenda/add/", meeting_pages.meeting_agenda_add, name="meeting-agenda-add"
    ),
    path(
        "meetings/<int:pk>/attendance/", meeting_pages.meeting_attendance, name="meeting-attendance"
    ),
    path("meetings/<int:pk>/minutes/", meeting_pages.meeting_minutes, name="meeting-minutes"),
    path("interests/", meeting_pages.interest_register, name="interest-register"),
]
