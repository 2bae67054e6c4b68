"""Booking: every write to appointments. Each function is one transaction and audits itself."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from sessions.diary import Diary
from sessions.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentTransition,
    Course,
)
from sessions.signals import appointment_booked, appointment_completed, appointment_status_changed


class SlotTakenError(ConflictError):
    """The practitioner, room or patient already has an appointment overlapping this one."""

    def __init__(self, clash, who):
        local = timezone.localtime(clash.starts_at, clash.location.zone)
        super().__init__(
            _("%(who)s is already booked at %(time)s (%(type)s with %(patient)s).")
            % {
                "who": who,
                "time": local.strftime("%Y-%m-%d %H:%M"),
                "type": clash.appointment_type,
                "patient": clash.patient.full_name,
            },
            extra={
                "conflict": {
                    "id": clash.pk,
                    "start": clash.starts_at.isoformat(),
                    "end": clash.ends_at.isoformat(),
                }
            },
        )
        self.clash = clash


def _clashes(*, patient, practitioner, room, starts_at, blocked_until, exclude=None):
    overlapping = Appointment.objects.filter(
        starts_at__lt=blocked_until, blocked_until__gt=starts_at, status__in=ACTIVE_STATUSES
    ).select_related("patient", "appointment_type", "location", "practitioner", "room")
    who = Q(practitioner=practitioner) | Q(patient=patient)
    if room is not None:
        who |= Q(room=room)
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
    return list(overlapping.filter(who).order_by("starts_at")[:1])


def _raise_if_clash(*, patient, practitioner, room, starts_at, blocked_until, exclude=None):
    found = _clashes(
        patient=patient,
        practitioner=practitioner,
        room=room,
        starts_at=starts_at,
        blocked_until=blocked_until,
        exclude=exclude,
    )
    if not found:
        return
    clash = found[0]
    if clash.practitioner_id == practitioner.pk:
        who = str(practitioner)
    elif room is not None and clash.room_id == room.pk:
        who = str(room.name)
    else:
        who = patient.full_name
    raise SlotTakenError(clash, who)


def outside_hours_message(*, practitioner, location, starts_at, ends_at):
    """Why the time is outside the practitioner's hours at the location, or ``None``."""
    local_day = timezone.localtime(starts_at, location.zone).date()
    diary = Diary(
        location=location,
        first_day=local_day,
        last_day=local_day,
        practitioners=[practitioner],
        held=False,
    )
    if diary.within_hours(practitioner.pk, starts_at, ends_at):
        return None
    return _(
        "%(when)s is outside %(who)s's hours at %(where)s (%(hours)s). "
        "Front desk can book it anyway with the outside-hours override."
    ) % {
        "when": timezone.localtime(starts_at, location.zone).strftime("%a %d %b %H:%M"),
        "who": practitioner,
        "where": location,
        "hours": diary.hours_text(practitioner.pk, local_day),
    }


def validate_times(*, starts_at, ends_at):
    if timezone.is_naive(starts_at) or (ends_at is not None and timezone.is_naive(ends_at)):
        raise ApplicationError(_("Times must carry a time zone offset."), field="start")
    if ends_at is not None and ends_at <= starts_at:
        raise ApplicationError(_("The end must be after the start."), field="end")


def validate_place(*, practitioner, location, room, appointment_type, room_required=True):
    """``room_required=False`` when a free room is picked later (course proposals)."""
    if not practitioner.is_active or not practitioner.locations.filter(pk=location.pk).exists():
        raise ApplicationError(
            _("%(who)s does not work at %(where)s.") % {"who": practitioner, "where": location},
            field="practitioner",
        )
    if room_required and appointment_type.needs_room and room is None:
        raise ApplicationError(_("This type of appointment needs a room."), field="room")
    if room is not None and room.location_id != location.pk:
        raise ApplicationError(_("This room is at another location."), field="room")


def free_room_for(*, location, practitioner, appointment_type, starts_at, ends_at):
    """A room at ``location`` free for the whole visit and its buffer: the one place a booking
    without a chosen room gets one (calendar, API, portal alike). ``None`` for a type that
    needs no room; ApplicationError on ``room`` when none is free."""
    if not appointment_type.needs_room:
        return None
    blocked_until = ends_at + timedelta(minutes=appointment_type.buffer_after_minutes)
    day = timezone.localtime(starts_at, location.zone).date()
    diary = Diary(location=location, first_day=day, last_day=day, practitioners=[practitioner])
    room_id = diary.free_room(starts_at, blocked_until)
    room = next((r for r in diary.rooms if r.pk == room_id), None)
    if room is None:
        raise ApplicationError(
            _("No room is free at that time; choose another time."), field="room"
        )
    return room


def appointment_book(
    *,
    actor,
    patient,
    practitioner,
    location,
    appointment_type,
    starts_at,
    ends_at=None,
    room=None,
    notes="",
    course=None,
    session_number=None,
    allow_outside_hours=False,
):
    """Book one appointment. Front desk and managers (and the course booking service).

    A time outside the practitioner's working hours is refused unless ``allow_outside_hours``
    (front desk's explicit override, recorded on the appointment and in the audit trail).
    Without ``room``, a type that needs one gets a free room at the location
    (``free_room_for``). Checks clashes first so the user gets a message naming the clashing
    appointment; the exclusion constraints on ``Appointment`` are what really stop two bookings
    racing for one slot, and their violation is turned into the same ``SlotTakenError``.
    """
    validate_times(starts_at=starts_at, ends_at=ends_at)
    ends_at = ends_at or starts_at + timedelta(minutes=appointment_type.duration_minutes)
    if not patient.is_active:
        raise ApplicationError(_("This patient's record is archived."), field="patient")
    validate_place(
        practitioner=practitioner,
        location=location,
        room=room,
        appointment_type=appointment_type,
        room_required=False,
    )
    if room is None and appointment_type.needs_room:
        room = free_room_for(
            location=location,
            practitioner=practitioner,
            appointment_type=appointment_type,
            starts_at=starts_at,
            ends_at=ends_at,
        )
    outside = outside_hours_message(
        practitioner=practitioner, location=location, starts_at=starts_at, ends_at=ends_at
    )
    if outside and not allow_outside_hours:
        raise ApplicationError(outside, field="start", extra={"outside_hours": True})
    blocked_until = ends_at + timedelta(minutes=appointment_type.buffer_after_minutes)
    held = {
        "patient": patient,
        "practitioner": practitioner,
        "room": room,
        "starts_at": starts_at,
        "blocked_until": blocked_until,
    }
    try:
        with transaction.atomic():
            _raise_if_clash(**held)
            appointment = Appointment(
                patient=patient,
                practitioner=practitioner,
                location=location,
                room=room,
                appointment_type=appointment_type,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                notes=notes,
                course=course,
                session_number=session_number,
                outside_working_hours=bool(outside),
                created_by=actor,
            )
            appointment.save()
            AppointmentTransition.objects.create(
                appointment=appointment, to_status=AppointmentStatus.BOOKED, by=actor
            )
            audit.record(
                actor=actor,
                action="appointment.booked",
                target=appointment,
                patient_id=patient.pk,
                detail={
                    "start": starts_at.isoformat(),
                    "practitioner": practitioner.pk,
                    **({"outside_hours_override": True} if outside else {}),
                    **({"course": course.pk, "session": session_number} if course else {}),
                },
            )
            appointment_booked.send(sender=Appointment, appointment=appointment, actor=actor)
    except IntegrityError as exc:
        # Another booking for the slot committed between our check and our insert.
        if "no_double_booking" not in str(exc):
            raise
        _raise_if_clash(**held)
        raise ConflictError(_("This time was just taken. Choose another.")) from exc
    return appointment


def course_renumber(course_id):
    """Give the course's sessions that still count (not cancelled, not missed) their place
    1..k in time order. Cancelled and missed ones keep the number they had."""
    counting = list(
        Appointment.objects.filter(course_id=course_id, status__in=ACTIVE_STATUSES).order_by(
            "starts_at", "id"
        )
    )
    changed = []
    for number, appointment in enumerate(counting, start=1):
        if appointment.session_number != number:
            appointment.session_number = number
            changed.append(appointment)
    Appointment.objects.bulk_update(changed, ["session_number"])


def course_finish_if_done(course_id):
    """Mark the course finished once all its planned sessions are completed."""
    course = Course.objects.select_for_update().get(pk=course_id)
    done = course.appointments.filter(status="completed").count()
    if course.status == Course.Status.ACTIVE and done >= course.planned_sessions:
        course.status = Course.Status.FINISHED
        course.save(update_fields=["status"])


# Allowed status changes: anything else is refused with a 409.
TRANSITIONS = {
    AppointmentStatus.BOOKED: {
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    },
    AppointmentStatus.CONFIRMED: {
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    },
    AppointmentStatus.CHECKED_IN: {AppointmentStatus.IN_PROGRESS},
    AppointmentStatus.IN_PROGRESS: {AppointmentStatus.COMPLETED},
}


def _transition(*, actor, appointment, to_status, reason="", cancellation=None):
    """Move one appointment to ``to_status`` if the rules allow it. Locks the row so two desks
    (or the desk and the patient) cannot both change it from the same state."""
    appointment = (
        Appointment.objects.select_for_update().select_related("location").get(pk=appointment.pk)
    )
    from_status = appointment.status
    if to_status not in TRANSITIONS.get(from_status, set()):
        raise ConflictError(
            _("An appointment that is %(from)s cannot become %(to)s.")
            % {
                "from": AppointmentStatus(from_status).label.lower(),
                "to": AppointmentStatus(to_status).label.lower(),
            },
            extra={"status": from_status},
        )
    appointment.status = to_status
    appointment.save(update_fields=["status", "updated_at"])
    AppointmentTransition.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=to_status,
        by=actor,
        reason=reason[:300],
    )
    if appointment.course_id and to_status in (
        AppointmentStatus.CANCELLED,
        AppointmentStatus.NO_SHOW,
    ):
        course_renumber(appointment.course_id)
    if appointment.course_id and to_status == AppointmentStatus.COMPLETED:
        course_finish_if_done(appointment.course_id)
    audit.record(
        actor=actor,
        action=f"appointment.{to_status}",
        target=appointment,
        patient_id=appointment.patient_id,
        detail={"from": from_status, "reason": reason[:300]} if reason else {"from": from_status},
    )
    appointment_status_changed.send(
        sender=Appointment,
        appointment=appointment,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        by_patient=(cancellation or {}).get("by_patient"),
        late=(cancellation or {}).get("late"),
    )
    if to_status == AppointmentStatus.COMPLETED:
        appointment_completed.send(sender=Appointment, appointment=appointment, actor=actor)
    return appointment


@transaction.atomic
def appointment_confirm(*, actor, appointment):
    """The patient confirmed (by phone, the portal or a reminder link)."""
    return _transition(actor=actor, appointment=appointment, to_status=AppointmentStatus.CONFIRMED)


@transaction.atomic
def appointment_check_in(*, actor, appointment):
    """Front desk: the patient has arrived."""
    return _transition(actor=actor, appointment=appointment, to_status=AppointmentStatus.CHECKED_IN)


@transaction.atomic
def appointment_start(*, actor, appointment):
    """The practitioner takes the patient in."""
    return _transition(
        actor=actor, appointment=appointment, to_status=AppointmentStatus.IN_PROGRESS
    )


@transaction.atomic
def appointment_complete(*, actor, appointment):
    """Called by the clinical record when the session record is signed."""
    return _transition(actor=actor, appointment=appointment, to_status=AppointmentStatus.COMPLETED)


@transaction.atomic
def appointment_mark_no_show(*, actor, appointment, now=None):
    """Front desk: the patient did not come. Only once the start time has passed."""
    if appointment.starts_at > (now or timezone.now()):
        raise ConflictError(_("A patient can only miss an appointment once it has started."))
    return _transition(actor=actor, appointment=appointment, to_status=AppointmentStatus.NO_SHOW)


@transaction.atomic
def appointment_cancel(*, actor, appointment, by_patient, reason, now=None):
    """Cancel, by the patient or the clinic, with the reason. Records whether it was late
    under the clinic's cancellation window; frees the slot."""
    from clinic.models import ClinicSettings

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason for cancelling."), field="reason")
    window = timedelta(hours=ClinicSettings.load().cancellation_window_hours)
    late = appointment.starts_at - (now or timezone.now()) < window
    who = "patient" if by_patient else "clinic"
    appointment = _transition(
        actor=actor,
        appointment=appointment,
        to_status=AppointmentStatus.CANCELLED,
        reason=f"{who}{' (late)' if late else ''}: {reason}",
        cancellation={"by_patient": by_patient, "late": late},
    )
    appointment.cancelled_late = late
    return appointment
