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
        from sessions import signals
        from sessions.messaging import receivers
        from sessions.messaging.selectors import chart_messages_panel
        from sessions.selectors import chart_schedule_panel

        register("schedule", chart_schedule_panel)
        register("messages", chart_messages_panel)
        # Patient messaging follows the diary through its signals (scheduling never imports it).
        for signal, receiver, uid in [
            (signals.appointment_booked, receivers.on_appointment_booked, "plan_reminders"),
            (signals.appointment_moved, receivers.on_appointment_moved, "replan_reminders"),
            (
                signals.appointment_status_changed,
                receivers.on_appointment_status_changed,
                "withdraw_reminders",
            ),
            (
                signals.appointment_completed,
                receivers.on_appointment_completed,
                "after_visit_messages",
            ),
        ]:
            signal.connect(receiver, dispatch_uid=f"treatment_sessions.{uid}")
