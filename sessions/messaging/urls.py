"""Pages of reminders and messages, added to ``sessions.urls`` (namespace
``treatment_sessions``)."""

from django.urls import path

from sessions.messaging import views as reminder_views

urlpatterns = [
    path("messages/", reminder_views.outbox, name="outbox"),
    path("messages/<int:pk>/resend/", reminder_views.outbox_resend, name="outbox_resend"),
    path("setup/reminders/", reminder_views.reminder_policy, name="setup_reminders"),
    # Public: the link in a message. The signed token is the credential.
    path("m/<str:token>/", reminder_views.message_link, name="message_link"),
    path(
        "m/<str:token>/<slug:action>/",
        reminder_views.message_link,
        name="message_link_action",
    ),
]
