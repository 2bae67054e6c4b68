"""Routes of the scheduling API, included under /api/v1/ by ``clinic.api_urls``."""

from django.urls import path

from sessions import api
from sessions.messaging import api as reminder_api

urlpatterns = [
    path("appointments/", api.AppointmentListCreate.as_view(), name="api-appointment-list"),
    path("appointments/<int:pk>/", api.AppointmentDetail.as_view(), name="api-appointment-detail"),
    path(
        "appointments/<int:pk>/cancel/",
        api.AppointmentCancel.as_view(),
        name="api-appointment-cancel",
    ),
    path(
        "appointments/<int:pk>/check-in/",
        api.AppointmentCheckIn.as_view(),
        name="api-appointment-check-in",
    ),
    path(
        "appointments/<int:pk>/confirm/",
        api.AppointmentConfirm.as_view(),
        name="api-appointment-confirm",
    ),
    path(
        "appointments/<int:pk>/start/", api.AppointmentStart.as_view(), name="api-appointment-start"
    ),
    path(
        "appointments/<int:pk>/complete/",
        api.AppointmentComplete.as_view(),
        name="api-appointment-complete",
    ),
    path(
        "appointments/<int:pk>/no-show/",
        api.AppointmentNoShow.as_view(),
        name="api-appointment-no-show",
    ),
    path("availability/", api.Availability.as_view(), name="api-availability"),
    path("courses/", api.CourseListCreate.as_view(), name="api-course-list"),
    path("courses/propose/", api.CourseProposals.as_view(), name="api-course-propose"),
    path("courses/<int:pk>/", api.CourseDetail.as_view(), name="api-course-detail"),
    path(
        "courses/<int:pk>/sessions/", api.CourseAddSession.as_view(), name="api-course-add-session"
    ),
    path("inbox/", api.PortalInbox.as_view(), name="api-inbox"),
    path("messages/", reminder_api.MessageList.as_view(), name="api-message-list"),
    path("messages/<int:pk>/", reminder_api.MessageDetail.as_view(), name="api-message-detail"),
    path(
        "messages/<int:pk>/resend/",
        reminder_api.MessageResend.as_view(),
        name="api-message-resend",
    ),
    path("reminder-policy/", reminder_api.ReminderPolicyView.as_view(), name="api-reminder-policy"),
    path("me/appointments/", api.MyAppointments.as_view(), name="api-my-appointments"),
    path(
        "me/appointments/<int:pk>/cancel/",
        api.MyAppointmentCancel.as_view(),
        name="api-my-appointment-cancel",
    ),
    path(
        "me/appointments/<int:pk>/confirm/",
        api.MyAppointmentConfirm.as_view(),
        name="api-my-appointment-confirm",
    ),
    path(
        "me/appointments/<int:pk>/reschedule-request/",
        api.MyAppointmentRescheduleRequest.as_view(),
        name="api-my-appointment-reschedule-request",
    ),
]
