"""Appointment types: what can be booked, for how long, with which buffer."""

from django.db import transaction
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError
from sessions.models import AppointmentType

APPOINTMENT_TYPE_FIELDS = [
    "name",
    "kind",
    "duration_minutes",
    "buffer_after_minutes",
    "colour",
    "needs_room",
    "is_active",
]


@transaction.atomic
def appointment_type_save(*, actor, appointment_type=None, data):
    """Create an appointment type (``appointment_type=None``) or change one. Managers only.

    Booked appointments keep the times they were booked with; a new duration applies to
    bookings made from now on. Locks the row so two saves do not interleave.
    """
    created = appointment_type is None
    if created:
        appointment_type = AppointmentType()
    else:
        appointment_type = AppointmentType.objects.select_for_update().get(pk=appointment_type.pk)
    duration = data.get("duration_minutes", appointment_type.duration_minutes)
    if duration is None or duration < 1:
        raise ApplicationError(
            _("The duration must be at least 1 minute."), field="duration_minutes"
        )
    changed = []
    for field in APPOINTMENT_TYPE_FIELDS:
        if field in data and getattr(appointment_type, field) != data[field]:
            setattr(appointment_type, field, data[field])
            changed.append(field)
    appointment_type.full_clean()
    appointment_type.save()
    audit.record(
        actor=actor,
        action="setup.appointment_type_saved",
        target=appointment_type,
        detail={"created": created, "changed": changed},
    )
    return appointment_type
