from django.urls import path

from criteria import views

app_name = "criteria"

urlpatterns = [
    path("", views.ruler_overview, name="overview"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("usps/", views.usp_list, name="usp-list"),
    path("usps/new/", views.usp_edit, name="usp-create"),
    path("usps/<int:pk>/", views.usp_edit, name="usp-edit"),
    path("versions/new/", views.ruler_draft_new, name="version-new"),
    path("versions/<int:pk>/", views.ruler_version, name="version"),
    path("runs/start/", views.run_start_view, name="run-start"),
    path("runs/<int:pk>/", views.run_progress, name="run-progress"),
    path("clients/<int:pk>/", views.scorecard, name="scorecard"),
    path("clients/<int:pk>/coverage/", views.coverage_matrix, name="coverage"),
]
