from django.urls import include, path

from clinic import api as clinic_api

urlpatterns = [
    path("auth/token/", clinic_api.obtain_token, name="api-token"),
    path("me/", clinic_api.me, name="api-me"),
    # Included by dotted path: clinic is the lowest layer and never imports an app above it.
    path("", include("patients.api_urls")),
    path("", include("sessions.api_urls")),
    path("", include("consultations.api_urls")),
    path("", include("billing.api_urls")),
]
