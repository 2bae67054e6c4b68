from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from consultations.signals import session_record_signed
        from patients.chart_panels import register
        from sessions import day_extras
        from sessions.signals import appointment_status_changed, course_booked

        from . import receivers, roles  # noqa: F401
        from .day_extras import appointment_day_extras
        from .selectors import chart_billing_panel

        session_record_signed.connect(
            receivers.on_session_record_signed, dispatch_uid="billing.draft_from_session_record"
        )
        appointment_status_changed.connect(
            receivers.on_appointment_status_changed, dispatch_uid="billing.status_changed"
        )
        course_booked.connect(receivers.on_course_booked, dispatch_uid="billing.course_booked")
        register("billing", chart_billing_panel)
        day_extras.register("billing", appointment_day_extras)
