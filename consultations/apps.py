from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Consultations and clinical records")

    def ready(self):
        from consultations.selectors.consultations import chart_clinical_panel
        from consultations.services.consultations import plan_link_booked_course
        from patients.chart_panels import register
        from sessions.signals import course_booked

        def link_plan(sender, course, actor, **kwargs):
            plan_link_booked_course(actor=actor, course=course)

        course_booked.connect(link_plan, dispatch_uid="consultations.link_plan_to_course")
        register("clinical", chart_clinical_panel)
