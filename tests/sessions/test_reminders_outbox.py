"""The outbox follows the appointments: booking writes reminder rows, moving moves them,
cancelling (or missing, or arriving) withdraws them, all in the same transaction; a completed
session queues aftercare, the side-effects question and, when the course has sessions left but
none booked, a nudge to book."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.errors import ApplicationError
from sessions import services
from sessions.messaging import services as messaging_services
from sessions.models import Appointment, Course, OutboundMessage
from sessions.services import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_mark_no_show,
    appointment_reschedule,
    appointment_start,
    course_book,
)
from tests.fixtures.messaging import at, consenting_patient, future_day, rows_of
from tests.fixtures.scheduling import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(clinic_setup, front_desk, messaging):
    return book(clinic_setup, front_desk, consenting_patient(), at(future_day(weekday=1), 12, 30))


def live(appointment):
    return [
        (m.channel, m.hours_before, m.scheduled_for)
        for m in rows_of(appointment, status="scheduled")
    ]


def test_moving_an_appointment_moves_its_reminders(appointment, front_desk):
    old = rows_of(appointment)
    new_start = appointment.starts_at + timedelta(days=1, hours=2)
    appointment_reschedule(actor=front_desk, appointment=appointment, starts_at=new_start)
    assert live(appointment) == [
        ("email", 48, new_start - timedelta(hours=48)),
        ("sms", 24, new_start - timedelta(hours=24)),
        ("sms", 2, new_start - timedelta(hours=2)),
    ]
    for row in old:
        row.refresh_from_db()
        assert (row.status, row.status_reason) == ("void", "The appointment moved.")
    assert all(m.for_starts_at == new_start for m in rows_of(appointment, status="scheduled"))


def test_moving_back_and_forth_keeps_one_live_row_per_reminder(appointment, front_desk):
    start = appointment.starts_at
    for when in (start + timedelta(days=1), start):
        appointment_reschedule(actor=front_desk, appointment=appointment, starts_at=when)
    assert len(live(appointment)) == 3
    assert len(rows_of(appointment, status="void")) == 6


def test_a_reminder_already_sent_stays_when_the_appointment_moves(appointment, front_desk):
    email = rows_of(appointment, channel="email")[0]
    OutboundMessage.objects.filter(pk=email.pk).update(status="sent", sent_at=timezone.now())
    appointment_reschedule(
        actor=front_desk, appointment=appointment, starts_at=appointment.starts_at + timedelta(1)
    )
    email.refresh_from_db()
    assert email.status == "sent"
    assert len(live(appointment)) == 3  # the new time gets its own email


def test_cancelling_withdraws_the_waiting_reminders(appointment, front_desk):
    appointment_cancel(actor=front_desk, appointment=appointment, by_patient=True, reason="Ill")
    assert {(m.status, m.status_reason) for m in rows_of(appointment)} == {
        ("void", "The appointment was cancelled.")
    }


def test_arriving_or_missing_withdraws_the_waiting_reminders(
    clinic_setup, front_desk, messaging, today_at
):
    # Booked at 09:00 for 14:00: the two-hour SMS is due at noon, outside the quiet hours.
    start = today_at(9, tick=False) + timedelta(hours=5)
    arrived = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    appointment_check_in(actor=front_desk, appointment=arrived)
    assert {m.status_reason for m in rows_of(arrived)} == {"The patient has arrived."}

    missed = book(
        clinic_setup,
        front_desk,
        consenting_patient(),
        start + timedelta(hours=1),
        allow_outside_hours=True,
    )
    appointment_mark_no_show(actor=front_desk, appointment=missed, now=start + timedelta(hours=2))
    assert {m.status_reason for m in rows_of(missed)} == {"The patient did not come."}


def test_confirming_keeps_the_reminders(appointment, front_desk):
    services.appointment_confirm(actor=front_desk, appointment=appointment)
    assert len(live(appointment)) == 3


def test_a_course_plans_reminders_for_every_session(clinic_setup, front_desk, messaging):
    day = future_day(weekday=1)
    course = course_book(
        actor=front_desk,
        patient=consenting_patient(),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=[at(day + timedelta(weeks=n), 10) for n in range(4)],
        interval_days=7,
    )
    counts = [len(rows_of(a)) for a in course.appointments.all()]
    assert counts == [3, 3, 3, 3]


def test_a_course_that_cannot_be_booked_leaves_no_reminders(clinic_setup, front_desk, messaging):
    day = future_day(weekday=1)
    book(clinic_setup, front_desk, consenting_patient(), at(day + timedelta(weeks=2), 10))
    before = OutboundMessage.objects.count()
    with pytest.raises(ApplicationError):
        course_book(
            actor=front_desk,
            patient=consenting_patient(),
            practitioner=clinic_setup["practitioner"],
            location=clinic_setup["location"],
            appointment_type=clinic_setup["type"],
            room=clinic_setup["room"],
            starts=[at(day + timedelta(weeks=n), 10) for n in range(4)],
            interval_days=7,
        )
    assert OutboundMessage.objects.count() == before


def test_shifting_later_sessions_replans_all_of_them(clinic_setup, front_desk, messaging):
    day = future_day(weekday=1)
    course = course_book(
        actor=front_desk,
        patient=consenting_patient(),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=[at(day + timedelta(weeks=n), 10) for n in range(3)],
        interval_days=7,
    )
    first = course.appointments.order_by("starts_at").first()
    appointment_reschedule(
        actor=front_desk, appointment=first, starts_at=at(day, 14), shift_later=True
    )
    for session in course.appointments.all():
        planned = rows_of(session, status="scheduled")
        assert {m.for_starts_at for m in planned} == {session.starts_at}
        assert session.starts_at.astimezone(at(day, 0).tzinfo).hour == 14


# -- after a completed session --------------------------------------------------------------------


def complete(appointment, actor):
    appointment_check_in(actor=actor, appointment=appointment)
    appointment_start(actor=actor, appointment=appointment)
    return appointment_complete(actor=actor, appointment=appointment)


def after_visit(appointment):
    return {
        m.kind: m
        for m in OutboundMessage.objects.filter(appointment=appointment).exclude(kind="reminder")
    }


@pytest.fixture
def today_course(clinic_setup, front_desk, messaging):
    """A course of three with its first session an hour ago (so it can be completed) and the
    other two not booked yet."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    course = Course.objects.create(
        patient=consenting_patient(),
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        planned_sessions=3,
        interval_days=14,
    )
    first = book(
        clinic_setup,
        front_desk,
        course.patient,
        start,
        course=course,
        session_number=1,
        allow_outside_hours=True,
    )
    return course, first


def test_completing_a_session_queues_aftercare_follow_up_and_a_nudge_to_book(
    today_course, practitioner_user
):
    course, first = today_course
    before = timezone.now()
    complete(first, practitioner_user)
    after = timezone.now()
    queued = after_visit(first)
    assert set(queued) == {"aftercare", "follow_up", "book_next"}
    # Email (agreed, with an address): quiet hours do not hold it.
    assert {m.channel for m in queued.values()} == {"email"}
    assert before <= queued["aftercare"].next_attempt_at <= after
    follow_up, nudge = queued["follow_up"].scheduled_for, queued["book_next"].scheduled_for
    assert before + timedelta(hours=24) <= follow_up <= after + timedelta(hours=24)
    assert before + timedelta(hours=48) <= nudge <= after + timedelta(hours=48)


def test_no_nudge_when_the_next_session_is_booked(
    today_course, clinic_setup, front_desk, practitioner_user
):
    course, first = today_course
    book(
        clinic_setup,
        front_desk,
        course.patient,
        at(future_day(), 10),
        course=course,
        session_number=2,
    )
    complete(first, practitioner_user)
    assert set(after_visit(first)) == {"aftercare", "follow_up"}


def test_after_visit_messages_go_by_sms_when_only_sms_is_agreed(
    clinic_setup, front_desk, practitioner_user, messaging
):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    patient = consenting_patient(consents_email_reminders=False)
    visit = book(clinic_setup, front_desk, patient, start, allow_outside_hours=True)
    complete(visit, practitioner_user)
    assert {m.channel for m in after_visit(visit).values()} == {"sms"}


def test_after_visit_messages_follow_the_policy(
    clinic_setup, front_desk, practitioner_user, manager, messaging
):
    messaging_services.reminder_policy_update(
        actor=manager, data={"aftercare_enabled": False, "follow_up_after_hours": 48}
    )
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    visit = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    complete(visit, practitioner_user)
    queued = after_visit(visit)
    assert set(queued) == {"follow_up"}


def test_aftercare_is_handed_to_the_broker_after_commit(
    clinic_setup,
    front_desk,
    practitioner_user,
    messaging,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from sessions import tasks

    settings.MESSAGES_NOTIFY_BROKER = True
    told = []
    monkeypatch.setattr(tasks.send_message, "delay", lambda pk: told.append(pk))
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    visit = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    with django_capture_on_commit_callbacks(execute=True):
        complete(visit, practitioner_user)
    assert told == [after_visit(visit)["aftercare"].pk]


def test_a_broken_after_visit_step_does_not_undo_the_completion(
    clinic_setup, front_desk, practitioner_user, messaging, monkeypatch
):
    from sessions.messaging import services as reminders

    def broken(**kwargs):
        raise RuntimeError("template missing")

    monkeypatch.setattr(reminders, "messages_after_completion", broken)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    visit = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    complete(visit, practitioner_user)
    assert Appointment.objects.get(pk=visit.pk).status == "completed"


def test_a_session_recorded_days_later_gets_no_after_visit_messages(
    clinic_setup, front_desk, practitioner_user, messaging
):
    start = timezone.now().replace(microsecond=0) - timedelta(days=3)
    visit = book(clinic_setup, front_desk, consenting_patient(), start, allow_outside_hours=True)
    complete(visit, practitioner_user)
    queued = after_visit(visit)
    assert {m.status for m in queued.values()} == {"skipped"}
    assert queued["aftercare"].status_reason == (
        "The session was recorded more than a day after it ended."
    )
