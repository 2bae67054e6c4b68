import threading
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, Room
from sessions import services
from sessions.models import Appointment, Course
from sessions.selectors import course_progress
from tests.factories import PatientFactory
from tests.fixtures.scheduling import (
    BEFORE_BOOKINGS,
    BEFORE_THE_BOOKINGS,
    NEW_YORK,
    book,
    book_course,
)

# They name dates of 2026 as ahead or behind: the clock is pinned before them.
pytestmark = BEFORE_THE_BOOKINGS

FIRST_MONDAY = date(2026, 12, 7)


def local(day, hour=12, minute=30):
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def weekly(first=FIRST_MONDAY, sessions=10, hour=12, minute=30, interval=7):
    return [local(first + timedelta(days=interval * k), hour, minute) for k in range(sessions)]


def propose(setup, patient, **overrides):
    kwargs = {
        "patient": patient,
        "practitioner": setup["practitioner"],
        "location": setup["location"],
        "appointment_type": setup["type"],
        "room": setup["room"],
        "sessions": 10,
        "interval_days": 7,
        "first_day": date(2026, 12, 1),
        "weekday": 0,
        "at_time": time(12, 30),
        "now": BEFORE_BOOKINGS,
    }
    kwargs.update(overrides)
    return services.course_propose(**kwargs)


def sessions_of(course):
    return list(course.appointments.order_by("starts_at"))


def walk_to_completed(actor, appointment):
    for step in ("appointment_check_in", "appointment_start", "appointment_complete"):
        appointment = getattr(services, step)(actor=actor, appointment=appointment)
    return appointment


# -- proposing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ten_weekly_proposals_start_on_the_first_wanted_weekday(clinic_setup):
    proposals = propose(clinic_setup, PatientFactory())
    assert [p.number for p in proposals] == list(range(1, 11))
    assert [p.start for p in proposals] == weekly()
    assert all(p.ok and p.clash_id is None and p.alternative is None for p in proposals)
    assert all(p.end - p.start == timedelta(minutes=30) for p in proposals)
    assert not Appointment.objects.exists() and not Course.objects.exists()  # reads only


@pytest.mark.django_db
def test_a_two_weekly_course_without_a_weekday_starts_on_the_first_day(clinic_setup):
    proposals = propose(clinic_setup, PatientFactory(), sessions=3, interval_days=14, weekday=None)
    assert [p.start for p in proposals] == weekly(first=date(2026, 12, 1), sessions=3, interval=14)


@pytest.mark.django_db
def test_a_clashing_proposal_names_the_clash_and_offers_a_free_time_nearby(
    clinic_setup, front_desk
):
    clash = book(clinic_setup, front_desk, PatientFactory(), local(date(2026, 12, 21)))
    patient = PatientFactory()
    proposals = propose(clinic_setup, patient)
    flagged = [p for p in proposals if not p.ok]
    assert [p.number for p in flagged] == [3]
    third = flagged[0]
    assert third.clash_id == clash.pk
    assert clash.patient.full_name in third.problem
    assert third.alternative is not None and third.alternative != third.start
    assert abs(third.alternative - third.start) <= timedelta(hours=1)
    # The alternative really is free: front desk can book the whole course with it.
    starts = [p.alternative or p.start for p in proposals]
    course = book_course(clinic_setup, front_desk, patient, starts)
    assert course.appointments.count() == 10


@pytest.mark.django_db
def test_the_patients_own_appointment_elsewhere_is_a_clash(
    clinic_setup, second_practitioner, front_desk
):
    patient = PatientFactory()
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    own = book(
        clinic_setup,
        front_desk,
        patient,
        local(date(2026, 12, 14), 12, 45),
        practitioner=second_practitioner,
        room=room2,
    )
    proposals = propose(clinic_setup, patient, sessions=3)
    assert [p.clash_id for p in proposals] == [None, own.pk, None]


@pytest.mark.django_db
def test_a_proposal_with_no_free_room_is_flagged(clinic_setup, second_practitioner, front_desk):
    book(
        clinic_setup,
        front_desk,
        PatientFactory(),
        local(date(2026, 12, 14), 12, 15),
        practitioner=second_practitioner,
    )  # the only room, 12:15-12:55
    proposals = propose(clinic_setup, PatientFactory(), sessions=3, room=None)
    assert [p.ok for p in proposals] == [True, False, True]
    second = proposals[1]
    assert second.alternative is not None
    assert second.alternative_room_id == clinic_setup["room"].pk
    assert not (
        local(date(2026, 12, 14), 12, 15) - timedelta(minutes=40)
        < second.alternative
        < local(date(2026, 12, 14), 12, 55)
    )


@pytest.mark.django_db
def test_a_proposal_outside_the_hours_is_flagged_with_an_alternative_inside(clinic_setup):
    proposals = propose(clinic_setup, PatientFactory(), sessions=2, at_time=time(19))
    assert all("hours" in p.problem for p in proposals)
    assert all(p.clash_id is None for p in proposals)
    assert [p.alternative for p in proposals] == weekly(sessions=2, hour=18, minute=30)
    allowed = propose(
        clinic_setup, PatientFactory(), sessions=2, at_time=time(19), allow_outside_hours=True
    )
    assert all(p.ok for p in allowed)


@pytest.mark.django_db
def test_a_proposal_in_the_past_is_flagged(clinic_setup):
    proposals = propose(clinic_setup, PatientFactory(), sessions=2, now=local(FIRST_MONDAY, 13))
    assert not proposals[0].ok and proposals[1].ok
    assert proposals[0].alternative >= local(FIRST_MONDAY, 13)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sessions": 0}, "sessions"),
        ({"sessions": 26}, "sessions"),
        ({"interval_days": 0}, "interval_days"),
    ],
)
def test_a_course_of_an_impossible_shape_is_refused(clinic_setup, overrides, field):
    with pytest.raises(ApplicationError) as raised:
        propose(clinic_setup, PatientFactory(), **overrides)
    assert raised.value.field == field


# -- booking -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_booking_a_course_numbers_its_sessions(clinic_setup, front_desk):
    patient = PatientFactory()
    course = book_course(clinic_setup, front_desk, patient, weekly(), areas=["abdomen"])
    assert course.planned_sessions == 10 and course.status == "active"
    booked = sessions_of(course)
    assert [a.session_number for a in booked] == list(range(1, 11))
    assert [a.starts_at for a in booked] == weekly()
    assert all(a.patient == patient and a.room == clinic_setup["room"] for a in booked)
    assert AuditEvent.objects.filter(action="course.booked", patient_id=patient.pk).count() == 1
    assert (
        AuditEvent.objects.filter(action="appointment.booked", patient_id=patient.pk).count() == 10
    )


@pytest.mark.django_db
def test_a_course_gets_a_free_room_when_none_is_chosen(
    clinic_setup, second_practitioner, front_desk
):
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    book(
        clinic_setup,
        front_desk,
        PatientFactory(),
        local(date(2026, 12, 14)),
        practitioner=second_practitioner,
    )  # Room 1 is taken for the second session
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=3), room=None)
    rooms = [a.room_id for a in sessions_of(course)]
    assert rooms[1] == room2.pk and None not in rooms


@pytest.mark.django_db
def test_a_clash_on_session_seven_books_nothing_and_names_it(clinic_setup, front_desk):
    clash = book(clinic_setup, front_desk, PatientFactory(), weekly()[6] + timedelta(minutes=10))
    patient = PatientFactory()
    with pytest.raises(ConflictError) as raised:
        book_course(clinic_setup, front_desk, patient, weekly())
    assert raised.value.status_code == 409
    assert raised.value.field == "starts.6"
    assert "Session 7" in raised.value.message
    assert raised.value.extra["session"] == 7
    assert raised.value.extra["conflict"]["id"] == clash.pk
    assert not Course.objects.exists()
    assert list(Appointment.objects.all()) == [clash]
    assert not AuditEvent.objects.filter(patient_id=patient.pk).exists()


@pytest.mark.django_db
def test_a_session_outside_hours_books_nothing_unless_overridden(clinic_setup, front_desk):
    starts = weekly(sessions=3)
    starts[1] = starts[1].replace(hour=19)
    with pytest.raises(ApplicationError) as raised:
        book_course(clinic_setup, front_desk, PatientFactory(), starts)
    assert raised.value.field == "starts.1" and raised.value.status_code == 400
    assert raised.value.extra["outside_hours"] is True
    assert not Course.objects.exists() and not Appointment.objects.exists()
    course = book_course(
        clinic_setup, front_desk, PatientFactory(), starts, allow_outside_hours=True
    )
    assert [a.outside_working_hours for a in sessions_of(course)] == [False, True, False]


@pytest.mark.django_db
def test_a_course_with_a_time_without_offset_is_refused_cleanly(clinic_setup, front_desk):
    starts = weekly(sessions=3)
    starts[2] = starts[2].replace(tzinfo=None)
    with pytest.raises(ApplicationError) as raised:
        book_course(clinic_setup, front_desk, PatientFactory(), starts, room=None)
    assert raised.value.field == "starts.2"
    assert not Course.objects.exists()


@pytest.mark.django_db
def test_an_archived_patient_cannot_start_a_course(clinic_setup, front_desk):
    with pytest.raises(ApplicationError) as raised:
        book_course(clinic_setup, front_desk, PatientFactory(is_active=False), weekly(sessions=2))
    assert raised.value.field == "patient"
    assert not Course.objects.exists()


# -- cancelling and replacing ------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_session_three_renumbers_the_later_ones_and_a_replacement_goes_at_the_end(
    clinic_setup, front_desk
):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly())
    third = sessions_of(course)[2]
    services.appointment_cancel(
        actor=front_desk, appointment=third, by_patient=True, reason="Away", now=BEFORE_BOOKINGS
    )
    by_start = sessions_of(course)
    assert [a.session_number for a in by_start] == [1, 2, 3, 3, 4, 5, 6, 7, 8, 9]
    assert by_start[2].status == "cancelled"

    proposal = services.course_replacement_proposal(course=course, now=BEFORE_BOOKINGS)
    assert proposal.ok and proposal.number == 10
    assert proposal.start == weekly()[-1] + timedelta(days=7)

    added = services.course_add_session(actor=front_desk, course=course, starts_at=proposal.start)
    assert added.session_number == 10 and added.course == course
    assert added.room == clinic_setup["room"]
    assert services.course_replacement_proposal(course=course, now=BEFORE_BOOKINGS) is None
    with pytest.raises(ConflictError):
        services.course_add_session(
            actor=front_desk, course=course, starts_at=proposal.start + timedelta(days=7)
        )
    assert course.appointments.count() == 11


@pytest.mark.django_db
def test_a_replacement_proposal_avoids_a_clash_at_the_end(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=3))
    services.appointment_cancel(
        actor=front_desk,
        appointment=sessions_of(course)[0],
        by_patient=False,
        reason="Practitioner ill",
        now=BEFORE_BOOKINGS,
    )
    wanted = weekly(sessions=4)[-1]
    clash = book(clinic_setup, front_desk, PatientFactory(), wanted)
    proposal = services.course_replacement_proposal(course=course, now=BEFORE_BOOKINGS)
    assert proposal.clash_id == clash.pk and proposal.alternative is not None
    added = services.course_add_session(
        actor=front_desk, course=course, starts_at=proposal.alternative
    )
    assert added.session_number == 3


@pytest.mark.django_db
def test_a_session_added_in_the_middle_takes_its_place_in_time(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=3))
    services.appointment_cancel(
        actor=front_desk,
        appointment=sessions_of(course)[1],
        by_patient=False,
        reason="Room flooded",
        now=BEFORE_BOOKINGS,
    )
    added = services.course_add_session(
        actor=front_desk, course=course, starts_at=weekly(sessions=2)[1] + timedelta(days=1)
    )
    assert added.session_number == 2
    assert [a.session_number for a in sessions_of(course) if a.status == "booked"] == [1, 2, 3]


@pytest.mark.django_db
def test_adding_a_clashing_session_is_refused_and_adds_nothing(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=2))
    services.appointment_cancel(
        actor=front_desk,
        appointment=sessions_of(course)[1],
        by_patient=False,
        reason="x",
        now=BEFORE_BOOKINGS,
    )
    clash = book(clinic_setup, front_desk, PatientFactory(), weekly(sessions=3)[2])
    with pytest.raises(ConflictError) as raised:
        services.course_add_session(actor=front_desk, course=course, starts_at=clash.starts_at)
    assert raised.value.extra["conflict"]["id"] == clash.pk
    assert course.appointments.count() == 2


# -- progress ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_progress_counts_each_kind_of_session_and_flags_a_gap(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=5))
    first, second, third, *_rest = sessions_of(course)
    walk_to_completed(front_desk, first)
    after_third = weekly()[2] + timedelta(days=1)
    services.appointment_mark_no_show(actor=front_desk, appointment=second, now=after_third)
    services.appointment_cancel(
        actor=front_desk, appointment=third, by_patient=False, reason="x", now=BEFORE_BOOKINGS
    )
    progress = course_progress(course, now=after_third)
    assert (progress.done, progress.upcoming, progress.cancelled, progress.missed) == (1, 2, 1, 1)
    assert progress.unbooked == 2 and progress.planned == 5 and progress.percent_done == 20
    assert progress.next_appointment.starts_at == weekly()[3]
    assert progress.next_appointment.session_number == 2
    assert progress.flags == ["Gap of 21 days before session 2 (interval 7 days)."]


@pytest.mark.django_db
def test_progress_of_a_course_on_cadence_has_no_flag(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=4))
    walk_to_completed(front_desk, sessions_of(course)[0])
    progress = course_progress(course, now=weekly()[0] + timedelta(days=2))
    assert progress.flags == []
    assert (progress.done, progress.upcoming, progress.unbooked) == (1, 3, 0)


@pytest.mark.django_db
def test_progress_flags_a_patient_with_no_next_session_booked(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=3))
    first, second, third = sessions_of(course)
    walk_to_completed(front_desk, first)
    walk_to_completed(front_desk, second)
    services.appointment_cancel(
        actor=front_desk, appointment=third, by_patient=True, reason="x", now=BEFORE_BOOKINGS
    )
    soon = course_progress(course, now=weekly()[1] + timedelta(days=1))
    assert soon.flags == ["No next session booked."]
    assert soon.next_appointment is None and soon.unbooked == 1
    much_later = course_progress(course, now=weekly()[1] + timedelta(days=20))
    assert much_later.flags == ["No next session booked.", "Last session was 20 days ago."]


@pytest.mark.django_db
def test_completing_every_session_finishes_the_course(clinic_setup, front_desk):
    course = book_course(clinic_setup, front_desk, PatientFactory(), weekly(sessions=2))
    first, second = sessions_of(course)
    walk_to_completed(front_desk, first)
    course.refresh_from_db()
    assert course.status == "active"
    walk_to_completed(front_desk, second)
    course.refresh_from_db()
    assert course.status == "finished"
    assert course_progress(course).flags == []


# -- two desks booking at once ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_courses_booked_at_once_only_one_is_kept(clinic_setup, front_desk):
    """Separate connections book two courses for the same practitioner at overlapping times."""
    patients = [PatientFactory(), PatientFactory()]
    plans = [weekly(sessions=5), weekly(sessions=5, minute=45)]
    barrier = threading.Barrier(2)
    outcomes = []
    lock = threading.Lock()

    def attempt(patient, starts):
        try:
            barrier.wait()
            try:
                book_course(clinic_setup, front_desk, patient, starts)
                result = "booked"
            except ConflictError:
                result = "conflict"
            except Exception as exc:  # noqa: BLE001 - any other failure must fail the test
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=args) for args in zip(patients, plans, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked", "conflict"], outcomes
    course = Course.objects.get()
    assert course.appointments.count() == 5
    assert Appointment.objects.count() == 5
