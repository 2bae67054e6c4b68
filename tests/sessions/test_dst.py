"""Daylight-saving days at a New York location: the clocks go forward on 8 March 2026 and
14 March 2027 (02:00 -> 03:00) and back on 1 November 2026 (02:00 -> 01:00)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from clinic.errors import ApplicationError
from clinic.lib.timezones import local_time_problem, local_to_aware
from clinic.models import WorkingHoursException
from sessions import services
from sessions.diary import Diary
from sessions.models import Appointment
from sessions.selectors import course_progress
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, NEW_YORK, book

# They name dates of 2026 and 2027 as ahead or behind: the clock is pinned before them.
pytestmark = BEFORE_THE_BOOKINGS

BEFORE = datetime(2027, 1, 4, 9, tzinfo=NEW_YORK)


def weekly_course(setup, actor, starts):
    """A weekly course for a new patient with Dr Pia in Room 1, at these starts."""
    return services.course_book(
        actor=actor,
        patient=PatientFactory(),
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=setup["type"],
        room=setup["room"],
        starts=starts,
        interval_days=7,
    )


EST, EDT = timedelta(hours=-5), timedelta(hours=-4)


def naive(*args):
    return datetime(*args)  # noqa: DTZ001 - a wall-clock time, placed in a zone by the code


# -- the conversion itself ------------------------------------------------------------------


def test_a_time_in_the_spring_gap_does_not_exist():
    with pytest.raises(ApplicationError) as raised:
        local_to_aware(naive(2026, 3, 8, 2, 30), NEW_YORK)
    assert raised.value.field == "start"
    assert "does not exist" in raised.value.message
    assert "2026-03-08 02:30" in raised.value.message


def test_a_time_in_the_autumn_overlap_is_ambiguous():
    with pytest.raises(ApplicationError) as raised:
        local_to_aware(naive(2026, 11, 1, 1, 30), NEW_YORK, field="starts.3")
    assert raised.value.field == "starts.3"
    assert "happens twice" in raised.value.message


@pytest.mark.parametrize(
    ("wall", "offset"),
    [
        (naive(2026, 3, 8, 1, 59), EST),
        (naive(2026, 3, 8, 3, 0), EDT),
        (naive(2026, 3, 8, 12, 30), EDT),
        (naive(2026, 11, 1, 0, 59), EDT),
        (naive(2026, 11, 1, 2, 0), EST),
        (naive(2026, 11, 1, 12, 30), EST),
    ],
)
def test_times_around_the_changes_are_placed_exactly(wall, offset):
    assert local_time_problem(wall, NEW_YORK) is None
    aware = local_to_aware(wall, NEW_YORK)
    assert aware.utcoffset() == offset
    assert aware.astimezone(UTC).astimezone(NEW_YORK).replace(tzinfo=None) == wall


def test_a_zone_without_daylight_saving_has_no_problem():
    assert local_time_problem(naive(2026, 3, 8, 2, 30), ZoneInfo("Asia/Tokyo")) is None
    assert local_time_problem(naive(2026, 3, 29, 2, 30), ZoneInfo("Europe/Paris")) is not None


def test_local_start_is_strict_too():
    with pytest.raises(ApplicationError) as raised:
        services.local_start(date(2026, 11, 1), time(1, 30), NEW_YORK, field="start")
    assert raised.value.field == "start"
    assert services.local_start(date(2026, 11, 1), time(12, 30), NEW_YORK).utcoffset() == EST


# -- scheduling across a change ---------------------------------------------------------------


@pytest.mark.django_db
def test_booking_a_time_without_offset_is_refused(clinic_setup, front_desk):
    with pytest.raises(ApplicationError) as raised:
        book(clinic_setup, front_desk, PatientFactory(), naive(2026, 12, 1, 12, 30))
    assert raised.value.field == "start"
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_course_proposals_over_the_spring_change_keep_the_local_time(clinic_setup):
    proposals = services.course_propose(
        patient=PatientFactory(),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        sessions=4,
        interval_days=7,
        first_day=date(2027, 3, 1),
        weekday=0,
        at_time=time(12, 30),
        now=BEFORE,
    )
    assert all(p.ok for p in proposals)
    local = [p.start.astimezone(NEW_YORK) for p in proposals]
    assert [(d.date(), d.time()) for d in local] == [
        (date(2027, 3, 1), time(12, 30)),
        (date(2027, 3, 8), time(12, 30)),
        (date(2027, 3, 15), time(12, 30)),
        (date(2027, 3, 22), time(12, 30)),
    ]
    assert [p.start.utcoffset() for p in proposals] == [EST, EST, EDT, EDT]
    utc = [p.start.astimezone(UTC).time() for p in proposals]
    assert utc == [time(17, 30), time(17, 30), time(16, 30), time(16, 30)]
    in_utc = [p.start.astimezone(UTC) for p in proposals]
    assert in_utc[2] - in_utc[1] == timedelta(days=7, hours=-1)


@pytest.mark.django_db
def test_a_booked_course_over_the_change_is_stored_at_the_right_instants(clinic_setup, front_desk):
    starts = [datetime(2027, 3, d, 12, 30, tzinfo=NEW_YORK) for d in (8, 15)]
    course = weekly_course(clinic_setup, front_desk, starts)
    stored = [a.starts_at.astimezone(UTC) for a in course.appointments.order_by("starts_at")]
    assert stored == [
        datetime(2027, 3, 8, 17, 30, tzinfo=UTC),
        datetime(2027, 3, 15, 16, 30, tzinfo=UTC),
    ]
    assert [a.local_start.time() for a in course.appointments.all()] == [time(12, 30)] * 2


@pytest.mark.django_db
def test_a_proposal_on_a_time_that_does_not_exist_gets_an_alternative(clinic_setup):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        date=date(2027, 3, 14),
        kind="extra_hours",
        starts_at=time(1),
        ends_at=time(6),
    )
    proposals = services.course_propose(
        patient=PatientFactory(),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        sessions=1,
        interval_days=7,
        first_day=date(2027, 3, 14),
        at_time=time(2, 30),
        now=BEFORE,
    )
    [proposal] = proposals
    assert proposal.start is None and "does not exist" in proposal.problem
    assert proposal.alternative is not None
    wall = proposal.alternative.astimezone(NEW_YORK)
    assert local_time_problem(wall.replace(tzinfo=None), NEW_YORK) is None


@pytest.mark.django_db
def test_shifting_a_course_over_the_change_keeps_the_wall_clock_time(clinic_setup, front_desk):
    """Friday sessions from 12 March 2027 move to Mondays, the first move crossing the change."""
    fridays = [datetime(2027, 3, d, 12, 30, tzinfo=NEW_YORK) for d in (12, 19, 26)]
    course = weekly_course(clinic_setup, front_desk, fridays)
    first = course.appointments.order_by("starts_at").first()
    monday = datetime(2027, 3, 15, 12, 30, tzinfo=NEW_YORK)
    services.appointment_reschedule(
        actor=front_desk, appointment=first, starts_at=monday, shift_later=True
    )
    moved = list(course.appointments.order_by("starts_at"))
    assert [(a.local_start.date(), a.local_start.time()) for a in moved] == [
        (date(2027, 3, 15), time(12, 30)),
        (date(2027, 3, 22), time(12, 30)),
        (date(2027, 3, 29), time(12, 30)),
    ]
    # Three days of wall-clock time: 71 hours for the first (over the change), 72 for the rest.
    assert moved[0].starts_at - fridays[0] == timedelta(hours=71)
    assert moved[1].starts_at - fridays[1] == timedelta(hours=72)
    assert all(a.ends_at - a.starts_at == timedelta(minutes=30) for a in moved)


@pytest.mark.django_db
def test_a_gap_over_the_change_is_counted_in_calendar_days(clinic_setup, front_desk):
    """Three weeks from Monday 8 March 2027 (EST) to Monday 29 March (EDT) are 21 days, though
    an hour short of 21 times 24 hours."""
    starts = [datetime(2027, 3, d, 12, 30, tzinfo=NEW_YORK) for d in (1, 8, 29)]
    course = weekly_course(clinic_setup, front_desk, starts)
    assert starts[2].astimezone(UTC) - starts[1].astimezone(UTC) < timedelta(days=21)
    flags = course_progress(course, now=BEFORE).flags
    assert "Gap of 21 days before session 3 (interval 7 days)." in flags


@pytest.mark.django_db
def test_working_hours_on_the_change_day_are_local(clinic_setup):
    diary = Diary(
        location=clinic_setup["location"],
        first_day=date(2027, 3, 13),
        last_day=date(2027, 3, 15),
        practitioners=[clinic_setup["practitioner"]],
    )
    pk = clinic_setup["practitioner"].pk
    [(saturday_start, _end)] = diary.periods[(pk, date(2027, 3, 13))]
    [(monday_start, _end)] = diary.periods[(pk, date(2027, 3, 15))]
    assert saturday_start.astimezone(UTC).hour == 13  # 08:00 EST
    assert monday_start.astimezone(UTC).hour == 12  # 08:00 EDT
    slots = diary.slots(appointment_type=clinic_setup["type"], day=date(2027, 3, 15), step=60)
    assert slots[0].start.astimezone(UTC) == datetime(2027, 3, 15, 12, tzinfo=UTC)


@pytest.mark.django_db
def test_an_appointment_keeps_its_local_time_when_read_back(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.starts_at.utcoffset() == timedelta(0)  # stored in UTC
    assert appointment.local_start == LUNCH
    assert appointment.local_start.strftime("%H:%M") == "12:30"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "missing"),
    [
        (date(2027, 3, 14), ["02:00", "02:15", "02:30", "02:45"]),  # do not exist
        (date(2027, 11, 7), ["01:00", "01:15", "01:30", "01:45"]),  # happen twice
    ],
)
def test_slots_on_a_change_day_skip_times_that_cannot_be_booked(clinic_setup, day, missing):
    from sessions.selectors import available_slots

    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        date=day,
        kind="extra_hours",
        starts_at=time(0, 30),
        ends_at=time(4),
    )
    slots, _diary = available_slots(
        appointment_type=clinic_setup["type"],
        location=clinic_setup["location"],
        first_day=day,
        last_day=day,
        practitioner=clinic_setup["practitioner"],
        now=BEFORE,
    )
    offered = [s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in slots]
    assert offered[0] == "00:30" and offered[-1] == "03:30"
    assert not set(missing) & set(offered)
    for slot in slots:
        wall = slot.start.astimezone(NEW_YORK).replace(tzinfo=None)
        assert local_time_problem(wall, NEW_YORK) is None
