"""Receivers for the hooks of the apps below billing: each only calls a billing service."""

from . import services
from .selectors import signed_record_exists


def on_session_record_signed(sender, record, actor, **kwargs):
    services.invoice_draft_on_completion(actor=actor, appointment=record.appointment, record=record)


def on_appointment_status_changed(sender, appointment, actor, from_status, to_status, **kwargs):
    # A visit completed by signing its session record is drafted once, from the record, by
    # on_session_record_signed; any other completed visit is drafted from the appointment.
    if to_status == "completed" and not signed_record_exists(appointment):
        services.invoice_draft_on_completion(actor=actor, appointment=appointment)
    elif to_status in ("no_show", "cancelled"):
        services.fee_invoice_on_status_change(
            actor=actor,
            appointment=appointment,
            to_status=to_status,
            by_patient=kwargs.get("by_patient"),
            late=kwargs.get("late"),
        )


def on_course_booked(sender, course, actor, **kwargs):
    services.package_link_course(actor=actor, course=course)
