from django.urls import path

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
]
