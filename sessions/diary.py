"""The clinic's diary for a location over a span of days: who works when (weekly hours and
exceptions), and which practitioners, rooms and patients are already held. Loaded in a fixed
number of queries, then asked many questions in memory (is this slot free? which slots are
free on this day?), which is what availability, course proposals and reschedules need."""

from bisect import insort
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from clinic.lib.timezones import at_local, local_time_problem
from clinic.models import Practitioner, Room, WorkingHours, WorkingHoursException
from sessions.models import ACTIVE_STATUSES, Appointment


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int
    room_id: int | None


def _subtract(periods, cut_start, cut_end):
    result = []
    for start, end in periods:
        if cut_end <= start or cut_start >= end:
            result.append((start, end))
            continue
        if start < cut_start:
            result.append((start, cut_start))
        if cut_end < end:
            result.append((cut_end, end))
    return result


def _merge(periods):
    merged = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlaps(held, start, end):
    return any(s < end and start < e for s, e, _pk in held)


class Diary:
    """Working periods and held time for ``location`` from ``first_day`` to ``last_day``
    (local dates, inclusive). ``practitioners`` defaults to everyone active there; ``patient``
    adds that patient's own bookings (anywhere) to what is held."""

    def __init__(
        self, *, location, first_day, last_day, practitioners=None, patient=None, held=True
    ):
        self.location = location
        self.zone = location.zone
        self.first_day, self.last_day = first_day, last_day
        if practitioners is None:
            practitioners = list(
                Practitioner.objects.filter(locations=location, is_active=True).order_by(
                    "display_name"
                )
            )
        self.practitioners = {p.pk: p for p in practitioners}
        self.rooms = list(Room.objects.filter(location=location, is_active=True))
        self._load_hours()
        self.by_practitioner = defaultdict(list)
        self.by_room = defaultdict(list)
        self.by_patient = []
        self.appointments = {}
        if held:
            self._load_held(patient)

    # -- loading -----------------------------------------------------------------------
    def _load_hours(self):
        weekly = defaultdict(list)
        for block in WorkingHours.objects.filter(
            practitioner_id__in=self.practitioners, location=self.location
        ):
            weekly[(block.practitioner_id, block.weekday)].append(block)
        exceptions = defaultdict(list)
        for exc in WorkingHoursException.objects.filter(
            Q(location=self.location) | Q(location__isnull=True),
            practitioner_id__in=self.practitioners,
            date__range=(self.first_day, self.last_day),
        ):
            exceptions[(exc.practitioner_id, exc.date)].append(exc)
        self.periods = {}
        day = self.first_day
        while day <= self.last_day:
            for pk in self.practitioners:
                periods = [
                    (at_local(day, b.starts_at, self.zone), at_local(day, b.ends_at, self.zone))
                    for b in weekly[(pk, day.weekday())]
                ]
                day_exceptions = exceptions[(pk, day)]
                for exc in day_exceptions:
                    if exc.kind == WorkingHoursException.Kind.EXTRA_HOURS:
                        periods.append(
                            (
                                at_local(day, exc.starts_at, self.zone),
                                at_local(day, exc.ends_at, self.zone),
                            )
                        )
                periods = _merge(periods)
                for exc in day_exceptions:
                    if exc.kind != WorkingHoursException.Kind.TIME_OFF:
                        continue
                    if exc.whole_day:
                        periods = []
                    else:
                        periods = _subtract(
                            periods,
                            at_local(day, exc.starts_at, self.zone),
                            at_local(day, exc.ends_at, self.zone),
                        )
                self.periods[(pk, day)] = periods
            day += timedelta(days=1)

    def _load_held(self, patient):
        span_start = at_local(self.first_day, datetime.min.time(), self.zone) - timedelta(days=1)
        span_end = at_local(self.last_day, datetime.min.time(), self.zone) + timedelta(days=2)
        whose = Q(practitioner_id__in=self.practitioners) | Q(room__location=self.location)
        if patient is not None:
            whose |= Q(patient=patient)
        for appt in (
            Appointment.objects.filter(
                whose,
                starts_at__lt=span_end,
                blocked_until__gt=span_start,
                status__in=ACTIVE_STATUSES,
            )
            .select_related("patient", "appointment_type", "practitioner", "room", "location")
            .order_by("starts_at")
        ):
            self.appointments[appt.pk] = appt
            held = (appt.starts_at, appt.blocked_until, appt.pk)
            self.by_practitioner[appt.practitioner_id].append(held)
            if appt.room_id:
                self.by_room[appt.room_id].append(held)
            if patient is not None and appt.patient_id == patient.pk:
                self.by_patient.append(held)

    # -- questions -----------------------------------------------------------------------
    def within_hours(self, practitioner_id, start, end):
        day = start.astimezone(self.zone).date()
        return any(s <= start and end <= e for s, e in self.periods.get((practitioner_id, day), []))

    def hours_text(self, practitioner_id, day):
        periods = self.periods.get((practitioner_id, day), [])
        if not periods:
            return _("not working that day")
        return ", ".join(
            f"{s.astimezone(self.zone):%H:%M}–{e.astimezone(self.zone):%H:%M}" for s, e in periods
        )

    def clash(self, *, practitioner_id, room_id, start, blocked_until, ignore=()):
        """The first held appointment overlapping the range for this practitioner, room or
        the diary's patient, or ``None``."""
        lists = [self.by_practitioner[practitioner_id], self.by_patient]
        if room_id:
            lists.append(self.by_room[room_id])
        for held in lists:
            for s, e, pk in held:
                if pk not in ignore and s < blocked_until and start < e:
                    return self.appointments.get(pk)
        return None

    def free_room(self, start, blocked_until, preferred=None):
        candidates = [preferred] if preferred else [r.pk for r in self.rooms]
        for room_id in candidates:
            if not _overlaps(self.by_room[room_id], start, blocked_until):
                return room_id
        return None

    def hold(self, *, practitioner_id, room_id, start, blocked_until, key):
        """Count a proposed booking as held, so later proposals avoid it."""
        held = (start, blocked_until, key)
        insort(self.by_practitioner[practitioner_id], held)
        self.by_patient.append(held)
        if room_id:
            insort(self.by_room[room_id], held)

    def slots(
        self, *, appointment_type, day, practitioner_id=None, room_id=None, step=15, after=None
    ):
        """Free slots on ``day`` (local date) for the type, in start order."""
        duration = timedelta(minutes=appointment_type.duration_minutes)
        buffer = timedelta(minutes=appointment_type.buffer_after_minutes)
        found = []
        # On a daylight-saving day, stepping the wall clock passes times that do not exist or
        # happen twice; those are never offered (they could not be booked by local time).
        clocks_change = (
            at_local(day, time(0), self.zone).utcoffset()
            != at_local(day + timedelta(days=1), time(0), self.zone).utcoffset()
        )
        for pk in [practitioner_id] if practitioner_id else list(self.practitioners):
            for period_start, period_end in self.periods.get((pk, day), []):
                start = period_start
                while start + duration <= period_end:
                    skip = (after is not None and start < after) or (
                        clocks_change and local_time_problem(start.replace(tzinfo=None), self.zone)
                    )
                    if not skip:
                        found.extend(
                            self._slot_if_free(
                                pk, room_id, appointment_type, start, duration, buffer
                            )
                        )
                    start += timedelta(minutes=step)
        found.sort(key=lambda slot: (slot.start, slot.practitioner_id))
        return found

    def _slot_if_free(self, practitioner_id, room_id, appointment_type, start, duration, buffer):
        blocked_until = start + duration + buffer
        if _overlaps(self.by_practitioner[practitioner_id], start, blocked_until):
            return []
        if _overlaps(self.by_patient, start, blocked_until):
            return []
        room = None
        if appointment_type.needs_room or room_id:
            room = self.free_room(start, blocked_until, preferred=room_id)
            if room is None:
                return []
        return [Slot(start, start + duration, practitioner_id, room)]
