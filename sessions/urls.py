from django.urls import path

from . import views

app_name = "treatment_sessions"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("my-day/", views.my_day, name="my_day"),
    path("portal/", views.my_schedule, name="my_schedule"),
]
