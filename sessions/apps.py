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

        from .selectors import chart_schedule_panel

        register("schedule", chart_schedule_panel)
