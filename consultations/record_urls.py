"""Routes of the consultation record pages, included at the site root by ``clinic.urls``.
No app namespace (``consultations.urls`` holds the photo pages): names start with
``consultation_``."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "appointments/<int:appointment_id>/consultation/",
        views.consultation_start_for_appointment,
        name="consultation_start_for_appointment",
    ),
    path(
        "patients/<int:patient_id>/consultations/",
        views.consultation_patient_list,
        name="consultation_patient_list",
    ),
    path(
        "patients/<int:patient_id>/consultations/new/",
        views.consultation_new,
        name="consultation_new",
    ),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation_detail"),
    path(
        "consultations/<int:pk>/autosave/",
        views.consultation_autosave,
        name="consultation_autosave",
    ),
    path(
        "consultations/<int:pk>/review-history/",
        views.consultation_review_history,
        name="consultation_review_history",
    ),
    path(
        "consultations/<int:pk>/alerts/acknowledge/",
        views.consultation_alert_acknowledge,
        name="consultation_alert_acknowledge",
    ),
    path("consultations/<int:pk>/sign/", views.consultation_sign, name="consultation_sign"),
    path(
        "consultations/<int:pk>/addenda/",
        views.consultation_addendum_add,
        name="consultation_addendum_add",
    ),
]
