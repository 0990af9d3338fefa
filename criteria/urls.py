from django.urls import path

from criteria import views

app_name = "criteria"

urlpatterns = [
    path("", views.ruler_overview, name="overview"),
    path("runs/start/", views.run_start_view, name="run-start"),
    path("runs/<int:pk>/", views.run_progress, name="run-progress"),
    path("clients/<int:pk>/", views.scorecard, name="scorecard"),
    path("clients/<int:pk>/coverage/", views.coverage_matrix, name="coverage"),
]
