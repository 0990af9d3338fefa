from django.urls import path

from governance import views

app_name = "governance"

urlpatterns = [
    path("proposals/", views.proposal_list, name="proposal-list"),
    path("proposals/new/", views.proposal_new, name="proposal-new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal-detail"),
    path("proposals/<int:pk>/close/", views.proposal_close_view, name="proposal-close"),
    path("decisions/", views.decision_register, name="decision-list"),
    path("drift/", views.drift_panel, name="drift"),
    path("policy/", views.policy_overview, name="policy"),
]
