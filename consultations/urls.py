from django.urls import path

from . import photo_views

app_name = "consultations"

urlpatterns = [
    path("portal/photos/", photo_views.portal_photos, name="portal_photos"),
    path("photos/<int:pk>/<str:variant>/", photo_views.photo_file, name="photo_file"),
    path("patients/<int:patient_id>/photos/new/", photo_views.photo_upload, name="photo_upload"),
    path(
        "patients/<int:patient_id>/photos/compare/",
        photo_views.photo_compare,
        name="photo_compare",
    ),
]
