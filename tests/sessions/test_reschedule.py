from datetime import date, datetime, time, timedelta

import pytest

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, WorkingHoursException
from sessions import services
from sessions.models import Appointment
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_BOOKINGS, BEFORE_THE_BOOKINGS, LUNCH, NEW_YORK, book

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]

FIRST_MONDAY = date(2026, 12, 7)


def local(day, hour=12, minute=30):
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def mondays(sessions=5):
    return [local(FIRST_MONDAY + timedelta(weeks=k)) for k in range(sessions)]


@pytest.fixture
def course(clinic_setup, front_desk):
    """Five weekly sessions, Mondays 12:30 from 7 December 2026."""
    return services.course_book(
        actor=front_desk,
        patient=PatientFactory(legal_first_name="Carla"),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=mondays(),
        interval_days=7,
    )


def sessions_of(course):
    return list(course.appointments.order_by("starts_at"))


def starts_of(course):
    return [a.starts_at for a in sessions_of(course)]


def move(actor, appointment, starts_at, **kwargs):
    return services.appointment_reschedule(
        actor=actor, appointment=appointment, starts_at=starts_at, **kwargs
    )


# -- one appointment -------------------------------------------------------------------------


def test_moving_an_appointment_to_a_free_time_moves_it_and_its_buffer(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    moved = move(front_desk, appointment, LUNCH + timedelta(hours=2))
    assert moved.starts_at == LUNCH + timedelta(hours=2)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=30)
    assert moved.blocked_until - moved.ends_at == timedelta(minutes=10)
    event = AuditEvent.objects.get(action="appointment.rescheduled")
    assert event.patient_id == appointment.patient_id
    assert event.object_id == str(appointment.pk)
    assert datetime.fromisoformat(event.detail["from"]) == LUNCH
    assert datetime.fromisoformat(event.detail["to"]) == LUNCH + timedelta(hours=2)


def test_moving_by_a_few_minutes_overlapping_itself_is_fine(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    moved = move(front_desk, appointment, LUNCH + timedelta(minutes=15))
    assert moved.starts_at == LUNCH + timedelta(minutes=15)


def test_a_longer_end_can_be_given(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    moved = move(
        front_desk, appointment, LUNCH + timedelta(hours=1), ends_at=LUNCH + timedelta(hours=2)
    )
    assert moved.ends_at == LUNCH + timedelta(hours=2)
    assert moved.blocked_until == LUNCH + timedelta(hours=2, minutes=10)


def test_moving_onto_a_booked_time_is_refused_naming_the_clash(clinic_setup, front_desk):
    clash = book(
        clinic_setup, front_desk, PatientFactory(legal_first_name="Zoé"), LUNCH + timedelta(hours=2)
    )
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    with pytest.raises(ConflictError) as raised:
        move(front_desk, appointment, LUNCH + timedelta(hours=1, minutes=45))  # buffer overlaps
    assert raised.value.status_code == 409
    assert raised.value.extra["conflict"]["id"] == clash.pk
    assert "Zoé" in raised.value.message and "14:30" in raised.value.message
    appointment.refresh_from_db()
    assert appointment.starts_at == LUNCH
    assert not AuditEvent.objects.filter(action="appointment.rescheduled").exists()


def test_moving_into_a_busy_room_is_refused(clinic_setup, second_practitioner, front_desk):
    clash = book(
        clinic_setup,
        front_desk,
        PatientFactory(),
        LUNCH + timedelta(hours=2),
        practitioner=second_practitioner,
    )
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    with pytest.raises(ConflictError) as raised:
        move(front_desk, appointment, LUNCH + timedelta(hours=2))
    assert raised.value.extra["conflict"]["id"] == clash.pk


def test_moving_outside_the_hours_needs_the_override_which_is_recorded(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    evening = LUNCH.replace(hour=19)
    with pytest.raises(ApplicationError) as raised:
        move(front_desk, appointment, evening)
    assert raised.value.status_code == 400
    assert raised.value.field == "start"
    assert raised.value.extra["outside_hours"] is True
    assert "08:00" in raised.value.message
    appointment.refresh_from_db()
    assert appointment.starts_at == LUNCH

    moved = move(front_desk, appointment, evening, allow_outside_hours=True)
    assert moved.starts_at == evening and moved.outside_working_hours is True
    event = AuditEvent.objects.get(action="appointment.rescheduled")
    assert event.detail["outside_hours_override"] is True

    back = move(front_desk, moved, LUNCH)
    assert back.outside_working_hours is False


@pytest.mark.parametrize("step", ["cancel", "complete"])
def test_a_cancelled_or_completed_appointment_cannot_be_moved(clinic_setup, front_desk, step):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    if step == "cancel":
        services.appointment_cancel(
            actor=front_desk, appointment=appointment, by_patient=False, reason="x"
        )
    else:
        for name in ("appointment_check_in", "appointment_start", "appointment_complete"):
            getattr(services, name)(actor=front_desk, appointment=appointment)
    with pytest.raises(ConflictError) as raised:
        move(front_desk, appointment, LUNCH + timedelta(days=1))
    assert raised.value.status_code == 409
    appointment.refresh_from_db()
    assert appointment.starts_at == LUNCH


def test_a_time_without_offset_is_refused(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    with pytest.raises(ApplicationError) as raised:
        move(front_desk, appointment, datetime(2026, 12, 2, 12, 30))  # noqa: DTZ001
    assert raised.value.field == "start"


# -- a course --------------------------------------------------------------------------------


def test_moving_one_session_alone_leaves_the_others(course, front_desk):
    second = sessions_of(course)[1]
    move(front_desk, second, local(date(2026, 12, 15), 14))
    expected = mondays()
    expected[1] = local(date(2026, 12, 15), 14)
    assert starts_of(course) == expected


def test_shifting_later_sessions_keeps_the_interval(course, front_desk):
    first, second, *_rest = sessions_of(course)
    move(front_desk, second, local(date(2026, 12, 15), 14), shift_later=True)
    assert starts_of(course) == [mondays()[0]] + [
        local(date(2026, 12, 15) + timedelta(weeks=k), 14) for k in range(4)
    ]
    assert [a.session_number for a in sessions_of(course)] == [1, 2, 3, 4, 5]
    events = AuditEvent.objects.filter(action="appointment.rescheduled")
    assert events.count() == 4
    assert {e.object_id for e in events} == {str(a.pk) for a in sessions_of(course)[1:]}
    first.refresh_from_db()
    assert first.starts_at == mondays()[0]


def test_a_clash_on_a_later_session_moves_nothing(clinic_setup, course, front_desk):
    clash = book(clinic_setup, front_desk, PatientFactory(), local(date(2026, 12, 29), 14))
    second = sessions_of(course)[1]
    with pytest.raises(ConflictError) as raised:
        move(front_desk, second, local(date(2026, 12, 15), 14), shift_later=True)
    assert "Session 4" in raised.value.message
    assert raised.value.extra["conflict"]["id"] == clash.pk
    assert starts_of(course) == mondays()
    assert not AuditEvent.objects.filter(action="appointment.rescheduled").exists()


def test_time_off_on_a_later_session_moves_nothing(clinic_setup, course, front_desk):
    WorkingHoursException.objects.create(
        practitioner=clinic_setup["practitioner"], date=date(2027, 1, 5), kind="time_off"
    )
    second = sessions_of(course)[1]
    with pytest.raises(ApplicationError) as raised:
        move(front_desk, second, local(date(2026, 12, 15), 14), shift_later=True)
    assert "Session 5" in raised.value.message
    assert "not working" in raised.value.message
    assert starts_of(course) == mondays()
    moved = move(
        front_desk,
        second,
        local(date(2026, 12, 15), 14),
        shift_later=True,
        allow_outside_hours=True,
    )
    assert moved.starts_at == local(date(2026, 12, 15), 14)
    assert [a.outside_working_hours for a in sessions_of(course)] == [False] * 4 + [True]


def test_shifting_by_exactly_one_interval_moves_each_session_onto_the_next_ones_slot(
    course, front_desk
):
    first = sessions_of(course)[0]
    move(front_desk, first, mondays()[1], shift_later=True)
    assert starts_of(course) == [s + timedelta(weeks=1) for s in mondays()]


def test_shifting_earlier_by_exactly_one_interval_works_too(course, front_desk):
    first = sessions_of(course)[0]
    move(front_desk, first, mondays()[0] - timedelta(weeks=1), shift_later=True)
    assert starts_of(course) == [s - timedelta(weeks=1) for s in mondays()]


def test_shifting_by_several_intervals_passes_over_the_later_sessions(course, front_desk):
    second = sessions_of(course)[1]
    move(front_desk, second, mondays()[1] + timedelta(weeks=2), shift_later=True)
    assert starts_of(course) == [mondays()[0]] + [s + timedelta(weeks=2) for s in mondays()[1:]]


def test_a_shift_leaves_cancelled_and_done_sessions_where_they_were(course, front_desk):
    first, second, third, fourth, fifth = sessions_of(course)
    for name in ("appointment_check_in", "appointment_start", "appointment_complete"):
        getattr(services, name)(actor=front_desk, appointment=first)
    services.appointment_cancel(
        actor=front_desk, appointment=fourth, by_patient=True, reason="x", now=BEFORE_BOOKINGS
    )
    move(front_desk, second, mondays()[1] + timedelta(days=1), shift_later=True)
    by_pk = {a.pk: a for a in course.appointments.all()}
    assert by_pk[first.pk].starts_at == mondays()[0]
    assert by_pk[fourth.pk].starts_at == mondays()[3]
    assert by_pk[third.pk].starts_at == mondays()[2] + timedelta(days=1)
    assert by_pk[fifth.pk].starts_at == mondays()[4] + timedelta(days=1)
    assert by_pk[fifth.pk].session_number == 4


def test_moving_a_session_past_the_next_one_renumbers_them(course, front_desk):
    second, third = sessions_of(course)[1:3]
    move(front_desk, second, mondays()[2] + timedelta(days=1))
    second.refresh_from_db()
    third.refresh_from_db()
    assert (third.session_number, second.session_number) == (2, 3)


def test_the_plan_shows_the_problems_and_writes_nothing(clinic_setup, course, front_desk):
    clash = book(clinic_setup, front_desk, PatientFactory(), local(date(2026, 12, 29), 14))
    second = sessions_of(course)[1]
    moves = services.reschedule_plan(
        appointment=second, starts_at=local(date(2026, 12, 15), 14), shift_later=True
    )
    assert [m.appointment.session_number for m in moves] == [2, 3, 4, 5]
    assert [m.clash_id for m in moves] == [None, None, clash.pk, None]
    assert [bool(m.problem) for m in moves] == [False, False, True, False]
    assert starts_of(course) == mondays()


def test_moving_a_session_onto_another_of_the_same_course_is_refused(course, front_desk):
    first, second = sessions_of(course)[:2]
    with pytest.raises(ConflictError) as raised:
        move(front_desk, first, mondays()[1])  # without shifting the later ones
    assert raised.value.extra["conflict"]["id"] == second.pk
    assert starts_of(course) == mondays()


def test_a_confirmed_session_can_be_moved(course, front_desk):
    first = sessions_of(course)[0]
    services.appointment_confirm(actor=front_desk, appointment=first)
    moved = move(front_desk, first, mondays()[0] + timedelta(hours=2))
    assert moved.status == "confirmed"
    assert Appointment.objects.filter(pk=first.pk, starts_at=mondays()[0]).count() == 0
