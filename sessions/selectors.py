"""Every read of scheduling that a page or the API uses, scoped to what the user may see and
costing a fixed number of queries."""

from dataclasses import dataclass, field
from datetime import time, timedelta

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from clinic import audit
from clinic.errors import ApplicationError
from clinic.lib.timezones import at_local
from clinic.models import Location, Practitioner
from clinic.roles import DESK_ROLES, STAFF_ROLES, Role
from patients.selectors import alert_labels_by_patient, patient_for_portal_user
from sessions.diary import Diary
from sessions.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Course,
    PortalRequest,
)

# The calendar and the API refuse to load more than this many days at once.
MAX_RANGE_DAYS = 62
UPCOMING = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROGRESS,
)


def is_scheduling_staff(user):
    return user.is_authenticated and user.role in STAFF_ROLES


def can_book(user):
    return user.is_authenticated and user.role in DESK_ROLES


def _with_relations(queryset):
    return queryset.select_related(
        "patient", "practitioner", "room", "location", "appointment_type", "course"
    )


def appointment_queryset_for_user(user):
    """Appointments the user may see: every one for clinic staff, only their own for a
    patient, none for anyone else."""
    base = _with_relations(Appointment.objects.all())
    if is_scheduling_staff(user):
        return base
    if user.is_authenticated and user.role == Role.PATIENT:
        return base.filter(patient__portal_user=user, patient__is_active=True)
    return base.none()


def appointment_get_for_user(user, pk, *, for_update=False):
    """One appointment the user may see, else 404. Records the read."""
    try:
        appointment = appointment_queryset_for_user(user).get(pk=pk)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    audit.record(
        actor=user,
        action="appointment.viewed",
        target=appointment,
        patient_id=appointment.patient_id,
    )
    return appointment


def appointments_in_range(
    user, *, start, end, location=None, practitioner=None, room=None, patient=None, status=None
):
    """Appointments overlapping [start, end) for the calendar and the API list: one query,
    whatever the number of rows."""
    if end <= start:
        raise ApplicationError("The end of the range must be after its start.", field="end")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ApplicationError(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", field="end")
    queryset = appointment_queryset_for_user(user).filter(starts_at__lt=end, ends_at__gt=start)
    if location is not None:
        queryset = queryset.filter(location=location)
    if practitioner is not None:
        queryset = queryset.filter(practitioner=practitioner)
    if room is not None:
        queryset = queryset.filter(room=room)
    if patient is not None:
        queryset = queryset.filter(patient=patient)
    if status:
        queryset = queryset.filter(status__in=status if isinstance(status, list) else [status])
    return queryset.order_by("starts_at", "id")


def with_alerts(appointments):
    """Attach ``alerts`` (short labels) to each appointment: three queries in all."""
    appointments = list(appointments)
    labels = alert_labels_by_patient({a.patient_id for a in appointments})
    for appointment in appointments:
        appointment.alerts = labels.get(appointment.patient_id, [])
    return appointments


def day_bounds(day, zone):
    return at_local(day, time(0), zone), at_local(day + timedelta(days=1), time(0), zone)


def location_day(user, *, location, day):
    """The location's appointments on a local date, with alerts: front desk's today list."""
    start, end = day_bounds(day, location.zone)
    appointments = appointments_in_range(user, start=start, end=end, location=location)
    audit.record(
        actor=user,
        action="schedule.day_viewed",
        target=location,
        detail={"day": day.isoformat()},
    )
    return with_alerts(appointments)


def practitioner_day(user, *, practitioner, day):
    """A practitioner's appointments on a local date (at any location), with alerts."""
    zone = (practitioner.locations.first() or Location(time_zone="UTC")).zone
    start, end = day_bounds(day, zone)
    appointments = appointments_in_range(user, start=start, end=end, practitioner=practitioner)
    audit.record(
        actor=user,
        action="schedule.day_viewed",
        target=practitioner,
        detail={"day": day.isoformat()},
    )
    return with_alerts(appointments)


def open_portal_requests(user, *, limit=50):
    """Front desk's inbox: what patients did online and nobody has dealt with yet."""
    if not can_book(user):
        raise Http404
    return list(
        PortalRequest.objects.filter(handled_at__isnull=True)
        .select_related(
            "patient",
            "appointment__appointment_type",
            "appointment__location",
            "appointment__practitioner",
        )
        .order_by("-created_at")[:limit]
    )


def portal_request_get_for_user(user, pk):
    if not can_book(user):
        raise Http404
    try:
        return PortalRequest.objects.get(pk=pk)
    except (PortalRequest.DoesNotExist, ValueError):
        raise Http404 from None


# -- courses -----------------------------------------------------------------------------------

CADENCE_GRACE_DAYS = 2


@dataclass
class CourseProgress:
    course: Course
    done: int
    upcoming: int
    cancelled: int
    missed: int
    unbooked: int
    next_appointment: Appointment | None
    flags: list = field(default_factory=list)

    @property
    def planned(self):
        return self.course.planned_sessions

    @property
    def percent_done(self):
        return round(100 * self.done / self.planned) if self.planned else 0


def course_progress(course, appointments=None, now=None):
    """Counts and cadence flags of a course from its appointments (prefetched or not).
    A patient is off cadence when no session is booked though some remain, or when two
    consecutive sessions are further apart than the interval (plus a grace of two days)."""
    now = now or timezone.now()
    appointments = sorted(
        appointments if appointments is not None else course.appointments.all(),
        key=lambda a: a.starts_at,
    )
    done = [a for a in appointments if a.status == AppointmentStatus.COMPLETED]
    upcoming = [a for a in appointments if a.status in UPCOMING]
    cancelled = sum(a.status == AppointmentStatus.CANCELLED for a in appointments)
    missed = sum(a.status == AppointmentStatus.NO_SHOW for a in appointments)
    unbooked = max(course.planned_sessions - len(done) - len(upcoming), 0)
    future = [a for a in upcoming if a.starts_at >= now]
    progress = CourseProgress(
        course=course,
        done=len(done),
        upcoming=len(upcoming),
        cancelled=cancelled,
        missed=missed,
        unbooked=unbooked,
        next_appointment=future[0] if future else None,
    )
    if course.status != Course.Status.ACTIVE:
        return progress
    if unbooked and not future:
        progress.flags.append("No next session booked.")
    counting = [a for a in appointments if a.status in ACTIVE_STATUSES]
    limit = course.interval_days + CADENCE_GRACE_DAYS
    zone = course.location.zone

    def day_of(moment):
        # Calendar days at the clinic: three weeks over a change of the clocks are 21 days,
        # not 20 days and 23 hours.
        return timezone.localtime(moment, zone).date()

    for before, after in zip(counting, counting[1:], strict=False):
        gap = (day_of(after.starts_at) - day_of(before.starts_at)).days
        if gap > limit:
            progress.flags.append(
                f"Gap of {gap} days before "
                f"session {after.session_number} (interval {course.interval_days} days)."
            )
    if counting and unbooked and counting[-1].starts_at < now:
        since_last = (day_of(now) - day_of(counting[-1].starts_at)).days
        if since_last > limit:
            progress.flags.append(f"Last session was {since_last} days ago.")
    return progress


def _course_queryset():
    return Course.objects.select_related(
        "patient", "practitioner", "location", "room", "appointment_type"
    ).prefetch_related(
        Prefetch(
            "appointments",
            queryset=Appointment.objects.select_related(
                "appointment_type", "practitioner", "room", "location"
            ).order_by("starts_at"),
        )
    )


def course_queryset_for_user(user):
    if is_scheduling_staff(user):
        return _course_queryset()
    if user.is_authenticated and user.role == Role.PATIENT:
        return _course_queryset().filter(patient__portal_user=user, patient__is_active=True)
    return Course.objects.none()


def course_get_for_user(user, pk):
    try:
        course = course_queryset_for_user(user).get(pk=pk)
    except (Course.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    audit.record(actor=user, action="course.viewed", target=course, patient_id=course.patient_id)
    return course


def courses_with_progress(courses):
    return [course_progress(c, list(c.appointments.all())) for c in courses]


def courses_needing_attention(user, *, limit=20):
    """Active courses whose patient has fallen off the cadence, for front desk to call."""
    if not can_book(user):
        raise Http404
    courses = _course_queryset().filter(status=Course.Status.ACTIVE, patient__is_active=True)
    flagged = [p for p in courses_with_progress(courses) if p.flags]
    return flagged[:limit]


# -- the patient's own schedule ---------------------------------------------------------------


@dataclass
class PortalSchedule:
    patient: object
    upcoming: list
    past: list
    courses: list


def portal_schedule(user, *, now=None):
    """The logged-in patient's appointments (upcoming and the last year) and courses with
    progress. Never anyone else's: everything is filtered on the patient's own record."""
    now = now or timezone.now()
    patient = patient_for_portal_user(user)
    appointments = list(
        _with_relations(Appointment.objects.filter(patient=patient))
        .filter(starts_at__gte=now - timedelta(days=365))
        .order_by("starts_at")
    )
    upcoming = [a for a in appointments if a.starts_at >= now and a.status in UPCOMING]
    past = [a for a in appointments if a not in upcoming][::-1]
    # Progress counts every session of the course, however old, so it is read separately.
    courses = (
        Course.objects.filter(patient=patient)
        .exclude(status=Course.Status.STOPPED)
        .select_related("appointment_type", "practitioner", "location")
        .prefetch_related(
            Prefetch(
                "appointments", queryset=_with_relations(Appointment.objects.order_by("starts_at"))
            )
        )
        .order_by("status", "-created_at")
    )
    progress = [course_progress(c, list(c.appointments.all()), now=now) for c in courses]
    audit.record(actor=user, action="schedule.portal_viewed", target=patient, patient_id=patient.pk)
    return PortalSchedule(patient=patient, upcoming=upcoming, past=past, courses=progress)


# -- availability ------------------------------------------------------------------------------


def available_slots(
    *,
    appointment_type,
    location,
    first_day,
    last_day,
    practitioner=None,
    room=None,
    patient=None,
    step_minutes=15,
    now=None,
    limit=500,
):
    """Free slots for the type at the location over local dates ``first_day``..``last_day``,
    honouring working hours, exceptions, buffers and existing bookings (of the
    practitioners, the rooms and, if given, the patient). Staff only; five queries."""
    if last_day < first_day:
        raise ApplicationError("The last day must not be before the first.", field="end")
    if (last_day - first_day).days > MAX_RANGE_DAYS:
        raise ApplicationError(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", field="end")
    diary = Diary(
        location=location,
        first_day=first_day,
        last_day=last_day,
        practitioners=[practitioner] if practitioner else None,
        patient=patient,
    )
    now = now or timezone.now()
    slots = []
    day = first_day
    while day <= last_day and len(slots) < limit:
        slots += diary.slots(
            appointment_type=appointment_type,
            day=day,
            practitioner_id=practitioner.pk if practitioner else None,
            room_id=room.pk if room else None,
            step=step_minutes,
            after=now,
        )
        day += timedelta(days=1)
    return slots[:limit], diary


def booking_choices(location=None):
    """What the booking forms offer: active types, practitioners, locations, rooms."""
    locations = list(Location.objects.filter(is_active=True))
    practitioners = list(Practitioner.objects.filter(is_active=True).prefetch_related("locations"))
    types = list(AppointmentType.objects.filter(is_active=True))
    return {"locations": locations, "practitioners": practitioners, "types": types}


def chart_schedule_panel(user, patient, *, now=None):
    """The chart's "Appointments and course" panel: the next visits and the courses with their
    progress, for clinic staff. Three queries."""
    if not is_scheduling_staff(user):
        return None
    now = now or timezone.now()
    upcoming = list(
        _with_relations(Appointment.objects.filter(patient=patient, status__in=UPCOMING))
        .filter(ends_at__gte=now)
        .order_by("starts_at")[:5]
    )
    courses = (
        _course_queryset()
        .filter(patient=patient)
        .exclude(status=Course.Status.STOPPED)
        .order_by("status", "-created_at")[:3]
    )
    return {
        "template": "treatment_sessions/partials/chart_panel.html",
        "upcoming": upcoming,
        "courses": courses_with_progress(courses),
        "can_book": can_book(user),
    }
