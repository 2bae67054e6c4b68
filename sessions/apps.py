from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentSessionsConfig(AppConfig):
    # django.contrib.sessions owns the label "sessions"; migrations and model references use
    # "treatment_sessions" (e.g. "treatment_sessions.Appointment").
    name = "sessions"
    label = "treatment_sessions"
    verbose_name = _("Treatment-session scheduling")

    def ready(self):
        from patients.chart_panels import register

        from .reminder_selectors import chart_messages_panel
        from .selectors import chart_schedule_panel
        from .services.reminders import on_appointment_completed
        from .signals import appointment_completed

        register("schedule", chart_schedule_panel)
        register("messages", chart_messages_panel)
        # Aftercare, the side-effects question and the nudge to book follow a completed visit.
        appointment_completed.connect(
            on_appointment_completed, dispatch_uid="treatment_sessions.after_visit_messages"
        )
