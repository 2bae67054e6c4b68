from django.urls import path

from sessions import calendar_views, course_views, portal_views, setup_views, views
from sessions.messaging import urls as reminder_urls

app_name = "treatment_sessions"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("my-day/", views.my_day, name="my_day"),
    path(
        "day/appointments/<int:pk>/<slug:action>/",
        views.appointment_day_action,
        name="day_action",
    ),
    path("portal/", portal_views.my_schedule, name="my_schedule"),
    path("portal/appointments/<int:pk>/cancel/", portal_views.portal_cancel, name="portal_cancel"),
    path("portal/appointments/<int:pk>/move/", portal_views.portal_move, name="portal_move"),
    path(
        "portal/appointments/<int:pk>/confirm/", portal_views.portal_confirm, name="portal_confirm"
    ),
    path("portal/appointments/<int:pk>/calendar.ics", portal_views.portal_ics, name="portal_ics"),
    path(
        "portal/calendar/new-address/",
        portal_views.portal_feed_revoke,
        name="portal_feed_revoke",
    ),
    path("calendar/<str:token>.ics", portal_views.calendar_feed, name="calendar_feed"),
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("calendar/book/", calendar_views.appointment_new, name="calendar_book"),
    path(
        "calendar/appointments/<int:pk>/",
        calendar_views.appointment_panel,
        name="calendar_appointment",
    ),
    path(
        "calendar/appointments/<int:pk>/cancel/",
        calendar_views.appointment_cancel,
        name="calendar_cancel",
    ),
    path(
        "calendar/appointments/<int:pk>/move/",
        calendar_views.appointment_move,
        name="calendar_move",
    ),
    path(
        "calendar/appointments/<int:pk>/<slug:action>/",
        calendar_views.appointment_transition,
        name="calendar_transition",
    ),
    path("calendar/inbox/", calendar_views.inbox, name="calendar_inbox"),
    path("calendar/inbox/<int:pk>/done/", calendar_views.inbox_done, name="calendar_inbox_done"),
    path("courses/", course_views.course_list, name="course_list"),
    path("courses/new/", course_views.course_new, name="course_new"),
    path("courses/<int:pk>/", course_views.course_detail, name="course_detail"),
    path(
        "courses/<int:pk>/sessions/<int:appointment_pk>/move/",
        course_views.course_session_move,
        name="course_session_move",
    ),
    path(
        "courses/<int:pk>/sessions/<int:appointment_pk>/cancel/",
        course_views.course_session_cancel,
        name="course_session_cancel",
    ),
    path(
        "courses/<int:pk>/sessions/add/",
        course_views.course_session_add,
        name="course_session_add",
    ),
    path("setup/types/", setup_views.type_list, name="setup_types"),
    path("setup/types/new/", setup_views.type_new, name="setup_type_new"),
    path("setup/types/<int:pk>/", setup_views.type_edit, name="setup_type_edit"),
]

urlpatterns += reminder_urls.urlpatterns
