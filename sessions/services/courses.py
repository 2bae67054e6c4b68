"""Courses of treatment sessions: proposing dates, booking them all or none, moving a
session (and optionally every later one), replacing a cancelled session at the end."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clinic import audit
from clinic.errors import ApplicationError, ConflictError
from clinic.lib.timezones import local_time_problem, local_to_aware
from sessions.diary import Diary
from sessions.models import ACTIVE_STATUSES, MAX_COURSE_SESSIONS, Appointment, Course
from sessions.services.booking import (
    appointment_book,
    course_renumber,
    outside_hours_message,
    validate_place,
    validate_times,
)
from sessions.signals import appointment_moved, course_booked

# How far from the wanted day a clashing proposal looks for another slot.
ALTERNATIVE_SEARCH_DAYS = 3


@dataclass
class Proposal:
    """One proposed session of a course: the wanted time, what is wrong with it, and a free
    slot nearby to use instead."""

    number: int
    start: datetime | None
    end: datetime | None
    problem: str = ""
    clash_id: int | None = None
    alternative: datetime | None = None
    alternative_room_id: int | None = None
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problem


def _clash_text(clash, zone):
    local = timezone.localtime(clash.starts_at, zone)
    return _("Clashes with %(type)s for %(patient)s with %(who)s at %(time)s.") % {
        "type": clash.appointment_type,
        "patient": clash.patient.full_name,
        "who": clash.practitioner,
        "time": local.strftime("%H:%M"),
    }


def _check(diary, *, practitioner, room, appointment_type, start, allow_outside_hours):
    """Problem with booking ``start`` in the diary: (message, clash) or ("", None)."""
    end = start + timedelta(minutes=appointment_type.duration_minutes)
    blocked_until = end + timedelta(minutes=appointment_type.buffer_after_minutes)
    if not allow_outside_hours and not diary.within_hours(practitioner.pk, start, end):
        day = start.astimezone(diary.zone).date()
        return (
            _("Outside %(who)s's hours (%(hours)s).")
            % {"who": practitioner, "hours": diary.hours_text(practitioner.pk, day)},
            None,
        )
    clash = diary.clash(
        practitioner_id=practitioner.pk,
        room_id=room.pk if room else None,
        start=start,
        blocked_until=blocked_until,
    )
    if clash is not None:
        return _clash_text(clash, diary.zone), clash
    if appointment_type.needs_room and room is None and not diary.free_room(start, blocked_until):
        return _("No room is free at this time."), None
    return "", None


def _nearest_free(diary, *, practitioner, room, appointment_type, wanted, not_before=None):
    """The free slot with this practitioner closest to ``wanted``: same day first, then up
    to ``ALTERNATIVE_SEARCH_DAYS`` either side."""
    wanted_day = wanted.astimezone(diary.zone).date()
    for distance in range(ALTERNATIVE_SEARCH_DAYS + 1):
        candidates = []
        for offset in {distance, -distance}:
            day = wanted_day + timedelta(days=offset)
            if not diary.first_day <= day <= diary.last_day:
                continue
            candidates += diary.slots(
                appointment_type=appointment_type,
                day=day,
                practitioner_id=practitioner.pk,
                room_id=room.pk if room else None,
                after=not_before,
            )
        if candidates:
            return min(candidates, key=lambda slot: abs(slot.start - wanted))
    return None


def course_propose(
    *,
    patient,
    practitioner,
    location,
    appointment_type,
    sessions,
    interval_days,
    first_day,
    at_time,
    room=None,
    weekday=None,
    allow_outside_hours=False,
    now=None,
):
    """Proposed dates for a course: ``sessions`` dates ``interval_days`` apart from the first
    ``weekday`` on or after ``first_day``, at ``at_time`` local time. A proposal that clashes,
    falls outside hours or does not exist on a daylight-saving day carries the problem and the
    nearest free alternative. Reads only; front desk and managers."""
    _validate_course_shape(sessions=sessions, interval_days=interval_days)
    validate_place(
        practitioner=practitioner,
        location=location,
        room=room,
        appointment_type=appointment_type,
        room_required=False,  # like course_book, a free room is found for each session
    )
    if weekday is not None:
        first_day += timedelta(days=(weekday - first_day.weekday()) % 7)
    last_day = first_day + timedelta(days=interval_days * (sessions - 1))
    diary = Diary(
        location=location,
        first_day=first_day - timedelta(days=ALTERNATIVE_SEARCH_DAYS),
        last_day=last_day + timedelta(days=ALTERNATIVE_SEARCH_DAYS),
        practitioners=[practitioner],
        patient=patient,
    )
    now = now or timezone.now()
    proposals = []
    for index in range(sessions):
        day = first_day + timedelta(days=interval_days * index)
        proposals.append(
            _propose_one(
                diary,
                number=index + 1,
                day=day,
                at_time=at_time,
                practitioner=practitioner,
                room=room,
                appointment_type=appointment_type,
                allow_outside_hours=allow_outside_hours,
                now=now,
            )
        )
    return proposals


def _propose_one(
    diary, *, number, day, at_time, practitioner, room, appointment_type, allow_outside_hours, now
):
    naive = datetime.combine(day, at_time)
    dst_problem = local_time_problem(naive, diary.zone)
    start = None if dst_problem else naive.replace(tzinfo=diary.zone)
    if start is not None and start < now:
        problem, clash = _("This time has already passed."), None
    elif start is not None:
        problem, clash = _check(
            diary,
            practitioner=practitioner,
            room=room,
            appointment_type=appointment_type,
            start=start,
            allow_outside_hours=allow_outside_hours,
        )
    else:
        problem, clash = dst_problem, None
    duration = timedelta(minutes=appointment_type.duration_minutes)
    proposal = Proposal(
        number=number,
        start=start,
        end=start + duration if start else None,
        problem=problem,
        clash_id=clash.pk if clash else None,
    )
    chosen, chosen_room = start, room.pk if room else None
    if problem:
        wanted = start or naive.replace(tzinfo=diary.zone)
        slot = _nearest_free(
            diary,
            practitioner=practitioner,
            room=room,
            appointment_type=appointment_type,
            wanted=wanted,
            not_before=now,
        )
        chosen = slot.start if slot else None
        chosen_room = slot.room_id if slot else None
        proposal.alternative = chosen
        proposal.alternative_room_id = chosen_room
    elif appointment_type.needs_room and room is None:
        chosen_room = diary.free_room(
            start, start + duration + timedelta(minutes=appointment_type.buffer_after_minutes)
        )
    if chosen is not None:
        diary.hold(
            practitioner_id=practitioner.pk,
            room_id=chosen_room,
            start=chosen,
            blocked_until=chosen
            + duration
            + timedelta(minutes=appointment_type.buffer_after_minutes),
            key=f"proposal-{number}",
        )
    return proposal


def _validate_course_shape(*, sessions, interval_days):
    if not 1 <= sessions <= MAX_COURSE_SESSIONS:
        raise ApplicationError(
            _("A course has between 1 and %(max)s sessions.") % {"max": MAX_COURSE_SESSIONS},
            field="sessions",
        )
    if not 1 <= interval_days <= 90:
        raise ApplicationError(
            _("Sessions are between 1 and 90 days apart."), field="interval_days"
        )


@transaction.atomic
def course_book(
    *,
    actor,
    patient,
    practitioner,
    location,
    appointment_type,
    starts,
    interval_days,
    room=None,
    areas=(),
    notes="",
    allow_outside_hours=False,
):
    """Create the course and book every session in ``starts`` (aware datetimes, in order),
    all or nothing: the first session that cannot be booked undoes the whole course, and the
    error names it. Front desk and managers."""
    for index, start in enumerate(starts):
        try:
            validate_times(starts_at=start, ends_at=None)
        except ApplicationError as exc:
            raise ApplicationError(exc.message, field=f"starts.{index}") from exc
    # Sessions are numbered in time order; errors name the caller's own row (``starts.<i>``).
    given_index = {id(start): index for index, start in enumerate(starts)}
    starts = sorted(starts)
    _validate_course_shape(sessions=len(starts), interval_days=interval_days)
    if not patient.is_active:
        raise ApplicationError(_("This patient's record is archived."), field="patient")
    course = Course(
        patient=patient,
        practitioner=practitioner,
        location=location,
        room=room,
        appointment_type=appointment_type,
        planned_sessions=len(starts),
        interval_days=interval_days,
        areas=list(areas),
        notes=notes,
        created_by=actor,
    )
    course.full_clean()
    course.save()
    rooms = _rooms_for(location, appointment_type, room, starts)
    for index, start in enumerate(starts):
        try:
            appointment_book(
                actor=actor,
                patient=patient,
                practitioner=practitioner,
                location=location,
                appointment_type=appointment_type,
                starts_at=start,
                room=rooms[index],
                course=course,
                session_number=index + 1,
                allow_outside_hours=allow_outside_hours,
            )
        except ApplicationError as exc:
            local = timezone.localtime(start, location.zone)
            error_class = ConflictError if isinstance(exc, ConflictError) else ApplicationError
            raise error_class(
                _("Session %(n)s (%(when)s): %(why)s")
                % {"n": index + 1, "when": local.strftime("%a %d %b %H:%M"), "why": exc.message},
                field=f"starts.{given_index[id(start)]}",
                extra={**exc.extra, "session": index + 1},
            ) from exc
    course_booked.send(sender=Course, course=course, actor=actor)
    audit.record(
        actor=actor,
        action="course.booked",
        target=course,
        patient_id=patient.pk,
        detail={"sessions": len(starts), "interval_days": interval_days},
    )
    return course


def _rooms_for(location, appointment_type, room, starts):
    """The room for each session: the chosen one, or a free room of the location."""
    if room is not None or not appointment_type.needs_room:
        return [room] * len(starts)
    first = timezone.localtime(starts[0], location.zone).date()
    last = timezone.localtime(starts[-1], location.zone).date()
    diary = Diary(location=location, first_day=first, last_day=last, practitioners=[])
    rooms = {r.pk: r for r in diary.rooms}
    chosen = []
    for start in starts:
        blocked_until = start + timedelta(
            minutes=appointment_type.duration_minutes + appointment_type.buffer_after_minutes
        )
        room_id = diary.free_room(start, blocked_until)
        if room_id is None:
            raise ConflictError(
                _("No room is free at %(when)s.")
                % {"when": timezone.localtime(start, location.zone).strftime("%a %d %b %H:%M")},
                field="room",
            )
        chosen.append(rooms[room_id])
    return chosen


# -- moving sessions ------------------------------------------------------------------------


@dataclass
class Move:
    appointment: Appointment
    start: datetime
    end: datetime
    problem: str = ""
    clash_id: int | None = None
    outside_hours: bool = False


def _shifted(appointment, local_delta):
    """The appointment moved by a wall-clock amount (so 12:30 stays 12:30 across a
    daylight-saving change)."""
    zone = appointment.location.zone
    naive = timezone.localtime(appointment.starts_at, zone).replace(tzinfo=None) + local_delta
    start = local_to_aware(naive, zone)
    return start, start + (appointment.ends_at - appointment.starts_at)


def reschedule_plan(
    *, appointment, starts_at, ends_at=None, shift_later=False, allow_outside_hours=False
):
    """What moving ``appointment`` to ``starts_at`` would do: one ``Move`` for it and, with
    ``shift_later``, one for each later open session of its course moved by the same
    wall-clock amount. Each move carries its problem (clash, outside hours) if any. Reads only."""
    zone = appointment.location.zone
    ends_at = ends_at or starts_at + (appointment.ends_at - appointment.starts_at)
    moving = [appointment]
    if shift_later and appointment.course_id:
        moving += list(
            Appointment.objects.filter(
                course_id=appointment.course_id,
                starts_at__gt=appointment.starts_at,
                status__in=["booked", "confirmed"],
            )
            .select_related("location", "practitioner", "room", "appointment_type")
            .order_by("starts_at")
        )
    local_delta = timezone.localtime(starts_at, zone).replace(tzinfo=None) - timezone.localtime(
        appointment.starts_at, zone
    ).replace(tzinfo=None)
    moves = [Move(appointment, starts_at, ends_at)]
    for later in moving[1:]:
        try:
            start, end = _shifted(later, local_delta)
        except ApplicationError as exc:
            moves.append(Move(later, later.starts_at, later.ends_at, problem=exc.message))
            continue
        moves.append(Move(later, start, end))
    first = min(timezone.localtime(m.start, zone).date() for m in moves)
    last = max(timezone.localtime(m.start, zone).date() for m in moves)
    diary = Diary(
        location=appointment.location,
        first_day=first,
        last_day=last,
        practitioners=[appointment.practitioner],
        patient=appointment.patient,
    )
    ignore = {m.appointment.pk for m in moves}
    for move in moves:
        if move.problem:
            continue
        buffer = timedelta(minutes=move.appointment.appointment_type.buffer_after_minutes)
        if not allow_outside_hours and not diary.within_hours(
            move.appointment.practitioner_id, move.start, move.end
        ):
            day = timezone.localtime(move.start, zone).date()
            move.problem = _("Outside %(who)s's hours (%(hours)s).") % {
                "who": move.appointment.practitioner,
                "hours": diary.hours_text(move.appointment.practitioner_id, day),
            }
            move.outside_hours = True
            continue
        clash = diary.clash(
            practitioner_id=move.appointment.practitioner_id,
            room_id=move.appointment.room_id,
            start=move.start,
            blocked_until=move.end + buffer,
            ignore=ignore,
        )
        if clash is not None:
            move.problem, move.clash_id = _clash_text(clash, zone), clash.pk
    return moves


@transaction.atomic
def appointment_reschedule(
    *,
    actor,
    appointment,
    starts_at,
    ends_at=None,
    shift_later=False,
    allow_outside_hours=False,
):
    """Move a booked or confirmed appointment (and with ``shift_later`` every later open
    session of its course by the same wall-clock amount), all or nothing. Front desk and
    managers. Locks the moved rows so a concurrent check-in or cancel waits for us."""
    validate_times(starts_at=starts_at, ends_at=ends_at)
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location", "practitioner", "room", "appointment_type", "patient")
        .get(pk=appointment.pk)
    )
    if not appointment.is_open:
        raise ConflictError(
            _("Only a booked or confirmed appointment can be moved; this one is %(status)s.")
            % {"status": appointment.get_status_display().lower()},
            extra={"status": appointment.status},
        )
    moves = reschedule_plan(
        appointment=appointment,
        starts_at=starts_at,
        ends_at=ends_at,
        shift_later=shift_later,
        allow_outside_hours=allow_outside_hours,
    )
    list(
        Appointment.objects.select_for_update()
        .filter(pk__in=[m.appointment.pk for m in moves])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for move in moves:
        if move.problem:
            number = move.appointment.session_number
            prefix = _("Session %(n)s: ") % {"n": number} if number and len(moves) > 1 else ""
            if move.clash_id:
                raise ConflictError(
                    prefix + move.problem, field="start", extra={"conflict": {"id": move.clash_id}}
                )
            # Outside hours or a daylight-saving gap: bad input (400), as when booking.
            raise ApplicationError(
                prefix + move.problem,
                field="start",
                extra={"outside_hours": True} if move.outside_hours else {},
            )
    delta = starts_at - appointment.starts_at
    # Shifting later the last session first (and earlier the first first) means no row ever
    # lands on a sibling that has not moved yet, so the exclusion constraints hold throughout.
    ordered = sorted(moves, key=lambda m: m.appointment.starts_at, reverse=delta > timedelta(0))
    try:
        with transaction.atomic():
            for move in ordered:
                _move_one(actor, move)
    except IntegrityError as exc:
        if "no_double_booking" not in str(exc):
            raise
        raise ConflictError(_("This time was just taken. Choose another."), field="start") from exc
    if appointment.course_id:
        course_renumber(appointment.course_id)
    appointment.refresh_from_db()
    return appointment


def _move_one(actor, move):
    appt = move.appointment
    before = appt.starts_at
    buffer = timedelta(minutes=appt.appointment_type.buffer_after_minutes)
    outside = outside_hours_message(
        practitioner=appt.practitioner,
        location=appt.location,
        starts_at=move.start,
        ends_at=move.end,
    )
    appt.starts_at, appt.ends_at, appt.blocked_until = move.start, move.end, move.end + buffer
    appt.outside_working_hours = bool(outside)
    appt.save(
        update_fields=[
            "starts_at",
            "ends_at",
            "blocked_until",
            "outside_working_hours",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        action="appointment.rescheduled",
        target=appt,
        patient_id=appt.patient_id,
        detail={
            "from": before.isoformat(),
            "to": move.start.isoformat(),
            **({"outside_hours_override": True} if outside else {}),
        },
    )
    appointment_moved.send(sender=Appointment, appointment=appt, actor=actor)


# -- replacing a cancelled session ------------------------------------------------------------


def course_replacement_proposal(*, course, now=None):
    """Where a replacement session would go: one interval after the course's last session
    that still counts, at the same local time, or the nearest free slot. ``None`` when the
    course already has all its sessions booked."""
    counting = list(
        course.appointments.filter(status__in=ACTIVE_STATUSES).order_by("-starts_at")[:1]
    )
    booked = course.appointments.filter(status__in=ACTIVE_STATUSES).count()
    if booked >= course.planned_sessions:
        return None
    zone = course.location.zone
    now = now or timezone.now()
    if counting:
        last = timezone.localtime(counting[0].starts_at, zone)
        day, at_time = last.date() + timedelta(days=course.interval_days), last.time()
    else:
        today = timezone.localtime(now, zone)
        day, at_time = today.date() + timedelta(days=1), time(12, 30)
    diary = Diary(
        location=course.location,
        first_day=day - timedelta(days=ALTERNATIVE_SEARCH_DAYS),
        last_day=day + timedelta(days=ALTERNATIVE_SEARCH_DAYS),
        practitioners=[course.practitioner],
        patient=course.patient,
    )
    proposal = _propose_one(
        diary,
        number=booked + 1,
        day=day,
        at_time=at_time,
        practitioner=course.practitioner,
        room=course.room,
        appointment_type=course.appointment_type,
        allow_outside_hours=False,
        now=now,
    )
    return proposal


@transaction.atomic
def course_add_session(*, actor, course, starts_at, room=None, allow_outside_hours=False):
    """Book one more session of the course (a replacement for a cancelled or missed one).
    Refused when the course already has all its planned sessions booked. Front desk and
    managers. Locks the course so two desks cannot both add the last missing session."""
    course = (
        Course.objects.select_for_update(of=("self",))
        .select_related("patient", "practitioner", "location", "room", "appointment_type")
        .get(pk=course.pk)
    )
    booked = course.appointments.filter(status__in=ACTIVE_STATUSES).count()
    if booked >= course.planned_sessions:
        raise ConflictError(
            _("This course already has all its %(n)s sessions booked.")
            % {"n": course.planned_sessions}
        )
    room = room or course.room  # without either, appointment_book picks a free room
    appointment = appointment_book(
        actor=actor,
        patient=course.patient,
        practitioner=course.practitioner,
        location=course.location,
        appointment_type=course.appointment_type,
        starts_at=starts_at,
        room=room,
        course=course,
        session_number=booked + 1,
        allow_outside_hours=allow_outside_hours,
    )
    course_renumber(course.pk)
    appointment.refresh_from_db()
    return appointment


@transaction.atomic
def course_flag_for_review(*, actor, course, reason):
    """Mark the course "review before next session" (the clinical record calls this after a
    severe adverse event). ``reason`` is shown to front desk: no clinical detail in it."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    course.review_reason = reason[:200]
    course.review_flagged_at = timezone.now()
    course.save(update_fields=["review_reason", "review_flagged_at"])
    audit.record(
        actor=actor,
        action="course.review_flagged",
        target=course,
        patient_id=course.patient_id,
        detail={"reason": course.review_reason},
    )
    return course


@transaction.atomic
def course_clear_review(*, actor, course, note=""):
    """A practitioner reviewed the course after the flag: the next session may go ahead."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    if not course.needs_review:
        raise ConflictError(_("This course is not waiting for a review."))
    previous = course.review_reason
    course.review_reason = ""
    course.review_flagged_at = None
    course.save(update_fields=["review_reason", "review_flagged_at"])
    audit.record(
        actor=actor,
        action="course.review_cleared",
        target=course,
        patient_id=course.patient_id,
        detail={"was": previous, "note": note[:300]},
    )
    return course


def local_start(day: date, at: time, zone, field="start"):
    """Front desk's local date and time -> an aware instant, strictly (DST-safe)."""
    return local_to_aware(datetime.combine(day, at), zone, field=field)


__all__ = [
    "ALTERNATIVE_SEARCH_DAYS",
    "Move",
    "Proposal",
    "appointment_reschedule",
    "course_add_session",
    "course_book",
    "course_clear_review",
    "course_flag_for_review",
    "course_propose",
    "course_replacement_proposal",
    "local_start",
    "reschedule_plan",
]
