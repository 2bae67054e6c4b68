from django.urls import path

from clinic import api as clinic_api

urlpatterns = [
    path("auth/token/", clinic_api.obtain_token, name="api-token"),
    path("me/", clinic_api.me, name="api-me"),
]
