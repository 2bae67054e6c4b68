"""Routes of the treatment-session record pages (no namespace; names start with
``session_record_``)."""

from django.urls import path

from . import session_views

urlpatterns = [
    path(
        "appointments/<int:appointment_id>/session-record/",
        session_views.session_record_start_for_appointment,
        name="session_record_start_for_appointment",
    ),
    path(
        "session-records/<int:pk>/",
        session_views.session_record_detail,
        name="session_record_detail",
    ),
    path(
        "session-records/<int:pk>/autosave/",
        session_views.session_record_autosave,
        name="session_record_autosave",
    ),
    path(
        "session-records/<int:pk>/complete/",
        session_views.session_record_sign,
        name="session_record_sign",
    ),
    path(
        "session-records/<int:pk>/photos/",
        session_views.session_record_photo_add,
        name="session_record_photo_add",
    ),
    path(
        "session-records/<int:pk>/addenda/",
        session_views.session_record_addendum_add,
        name="session_record_addendum_add",
    ),
]
