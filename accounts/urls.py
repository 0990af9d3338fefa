from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.client_list, name="client-list"),
    path("new/", views.client_create, name="client-create"),
    path("<int:pk>/", views.client_detail, name="client-detail"),
    path("<int:pk>/edit/", views.client_edit, name="client-edit"),
    path("<int:pk>/needs/", views.client_needs_edit, name="client-needs"),
    path("<int:pk>/figures/", views.client_figures_edit, name="client-figures"),
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/confirm/", views.import_confirm, name="import-confirm"),
    path("imports/<int:pk>/encoding/", views.import_encoding, name="import-encoding"),
    path("imports/<int:pk>/retry/", views.import_retry_view, name="import-retry"),
    path("imports/<int:pk>/errors/", views.import_errors_download, name="import-errors"),
]
