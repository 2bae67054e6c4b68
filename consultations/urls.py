"""The consultations app's pages, included at the site root by ``clinic.urls``.

The photo pages keep the ``consultations`` namespace; the record, session-record, course and lot
pages have none (their names start with ``consultation_``, ``session_record_``, ``course_`` and
``lot_``)."""

from django.urls import include, path

from consultations.views import consultations, courses, lots, photos, session_records

photo_patterns = [
    path("portal/photos/", photos.portal_photos, name="portal_photos"),
    path("photos/<int:pk>/<str:variant>/", photos.photo_file, name="photo_file"),
    path("patients/<int:patient_id>/photos/new/", photos.photo_upload, name="photo_upload"),
    path(
        "patients/<int:patient_id>/photos/compare/",
        photos.photo_compare,
        name="photo_compare",
    ),
]

urlpatterns = [
    path("", include((photo_patterns, "consultations"))),
    # The consultation record
    path(
        "appointments/<int:appointment_id>/consultation/",
        consultations.consultation_start_for_appointment,
        name="consultation_start_for_appointment",
    ),
    path(
        "patients/<int:patient_id>/consultations/",
        consultations.consultation_patient_list,
        name="consultation_patient_list",
    ),
    path(
        "patients/<int:patient_id>/consultations/new/",
        consultations.consultation_new,
        name="consultation_new",
    ),
    path("consultations/<int:pk>/", consultations.consultation_detail, name="consultation_detail"),
    path(
        "consultations/<int:pk>/autosave/",
        consultations.consultation_autosave,
        name="consultation_autosave",
    ),
    path(
        "consultations/<int:pk>/review-history/",
        consultations.consultation_review_history,
        name="consultation_review_history",
    ),
    path(
        "consultations/<int:pk>/alerts/acknowledge/",
        consultations.consultation_alert_acknowledge,
        name="consultation_alert_acknowledge",
    ),
    path("consultations/<int:pk>/sign/", consultations.consultation_sign, name="consultation_sign"),
    path(
        "consultations/<int:pk>/addenda/",
        consultations.consultation_addendum_add,
        name="consultation_addendum_add",
    ),
    # The record of a treatment session
    path(
        "appointments/<int:appointment_id>/session-record/",
        session_records.session_record_start_for_appointment,
        name="session_record_start_for_appointment",
    ),
    path(
        "session-records/<int:pk>/",
        session_records.session_record_detail,
        name="session_record_detail",
    ),
    path(
        "session-records/<int:pk>/autosave/",
        session_records.session_record_autosave,
        name="session_record_autosave",
    ),
    path(
        "session-records/<int:pk>/complete/",
        session_records.session_record_sign,
        name="session_record_sign",
    ),
    path(
        "session-records/<int:pk>/photos/",
        session_records.session_record_photo_add,
        name="session_record_photo_add",
    ),
    path(
        "session-records/<int:pk>/addenda/",
        session_records.session_record_addendum_add,
        name="session_record_addendum_add",
    ),
    # The clinical view of a course
    path("courses/<int:pk>/record/", courses.course_clinical, name="course_clinical"),
    path(
        "courses/<int:pk>/review/clear/",
        courses.course_review_clear,
        name="course_review_clear",
    ),
    # Product lots and the recall
    path("lots/", lots.lot_list, name="lot_list"),
    path("lots/<int:pk>/stock/", lots.lot_stock, name="lot_stock"),
    path("lots/recall/", lots.lot_recall_page, name="lot_recall"),
    path("lots/recall/export.csv", lots.lot_recall_csv, name="lot_recall_csv"),
]
