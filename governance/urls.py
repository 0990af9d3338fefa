from django.urls import path

from governance import meeting_views as meeting_pages
from governance import views

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
