from django.urls import path

from governance.record import views

urlpatterns = [
    path("record/", views.record_list, name="record-list"),
]
