"""What a patient does with their appointments in the portal, and front desk's inbox of it."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.models import ClinicSettings
from sessions.models import Appointment, CalendarFeed, PortalRequest, new_feed_token
from sessions.services.booking import appointment_cancel, appointment_confirm


def late_cancellation_message(settings=None):
    settings = settings or ClinicSettings.load()
    message = _(
        "Appointments cannot be cancelled online less than %(hours)s hours before they start."
    ) % {"hours": settings.cancellation_window_hours}
    if settings.phone:
        message += " " + _("Please call the clinic on %(phone)s.") % {"phone": settings.phone}
    else:
        message += " " + _("Please call the clinic.")
    return message


def _own_open_appointment(patient, appointment, now):
    if appointment.patient_id != patient.pk:
        # Selectors never hand a patient someone else's appointment; this is the last guard.
        raise Appointment.DoesNotExist
    if not appointment.is_open or appointment.starts_at <= now:
        raise ConflictError(
            _("This appointment can no longer be changed online."),
            extra={"status": appointment.status},
        )


@transaction.atomic
def portal_appointment_cancel(*, actor, patient, appointment, reason="", now=None):
    """The patient cancels online. Refused inside the clinic's cancellation window (the
    patient is asked to call). Front desk sees it in the inbox at once."""
    now = now or timezone.now()
    _own_open_appointment(patient, appointment, now)
    settings = ClinicSettings.load()
    if appointment.starts_at - now < timedelta(hours=settings.cancellation_window_hours):
        raise ConflictError(late_cancellation_message(settings), extra={"late": True})
    reason = (reason or "").strip() or _("Cancelled online by the patient")
    appointment = appointment_cancel(
        actor=actor, appointment=appointment, by_patient=True, reason=reason, now=now
    )
    PortalRequest.objects.create(
        appointment=appointment, patient=patient, kind=PortalRequest.Kind.CANCELLED, message=reason
    )
    return appointment


@transaction.atomic
def portal_appointment_confirm(*, actor, patient, appointment, now=None):
    """The patient confirms they will come."""
    now = now or timezone.now()
    _own_open_appointment(patient, appointment, now)
    if appointment.status == "confirmed":
        return appointment
    return appointment_confirm(actor=actor, appointment=appointment)


@transaction.atomic
def portal_reschedule_request(*, actor, patient, appointment, message, now=None):
    """The patient asks to move an appointment; front desk calls back. One open request per
    appointment. Locks the appointment so two quick taps cannot both open a request."""
    now = now or timezone.now()
    _own_open_appointment(patient, appointment, now)
    Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
    message = (message or "").strip()
    if not message:
        raise ApplicationError(_("Tell us which days and times would suit you."), field="message")
    if PortalRequest.objects.filter(
        appointment=appointment, kind=PortalRequest.Kind.RESCHEDULE, handled_at__isnull=True
    ).exists():
        raise ConflictError(
            _("You have already asked to move this appointment; the clinic will contact you.")
        )
    request = PortalRequest.objects.create(
        appointment=appointment,
        patient=patient,
        kind=PortalRequest.Kind.RESCHEDULE,
        message=message[:1000],
    )
    audit.record(
        actor=actor,
        action="appointment.reschedule_requested",
        target=appointment,
        patient_id=patient.pk,
    )
    return request


@transaction.atomic
def portal_request_handle(*, actor, portal_request, now=None):
    """Front desk has dealt with a patient's online action; it leaves the inbox."""
    portal_request = PortalRequest.objects.select_for_update().get(pk=portal_request.pk)
    if portal_request.handled_at is None:
        portal_request.handled_at = now or timezone.now()
        portal_request.handled_by = actor
        portal_request.save(update_fields=["handled_at", "handled_by"])
        audit.record(
            actor=actor,
            action="portal_request.handled",
            target=portal_request,
            patient_id=portal_request.patient_id,
        )
    return portal_request


def calendar_feed_for(patient):
    """The patient's feed, created on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(patient=patient)
    return feed


@transaction.atomic
def calendar_feed_revoke(*, actor, patient):
    """Give the patient a new feed address; the old one stops working at once."""
    feed = calendar_feed_for(patient)
    feed.token = new_feed_token()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    audit.record(actor=actor, action="calendar_feed.revoked", target=feed, patient_id=patient.pk)
    return feed


__all__ = [
    "calendar_feed_for",
    "calendar_feed_revoke",
    "late_cancellation_message",
    "portal_appointment_cancel",
    "portal_appointment_confirm",
    "portal_request_handle",
    "portal_reschedule_request",
]
