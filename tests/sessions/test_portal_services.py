from datetime import date, datetime, time, timedelta

import pytest
from django.http import Http404

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, ClinicSettings
from sessions import services
from sessions.models import Appointment, CalendarFeed, PortalRequest
from sessions.selectors import open_portal_requests, portal_schedule
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, NEW_YORK, book

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]

WEEK_BEFORE = LUNCH - timedelta(days=7)


@pytest.fixture
def patient(patient_user):
    return PatientFactory(portal_user=patient_user, legal_first_name="Pat")


@pytest.fixture
def appointment(clinic_setup, front_desk, patient):
    return book(clinic_setup, front_desk, patient, LUNCH)


@pytest.fixture
def clinic_phone():
    settings = ClinicSettings.load()
    settings.phone = "+1 212 555 0100"
    settings.save()
    return settings.phone


def cancel(patient_user, patient, appointment, now, reason="Travelling"):
    return services.portal_appointment_cancel(
        actor=patient_user, patient=patient, appointment=appointment, reason=reason, now=now
    )


# -- cancelling online --------------------------------------------------------------------------


def test_cancelling_outside_the_window_cancels_and_tells_front_desk(
    appointment, patient, patient_user, front_desk
):
    cancelled = cancel(patient_user, patient, appointment, WEEK_BEFORE)
    assert cancelled.status == "cancelled" and cancelled.cancelled_late is False
    step = cancelled.transitions.last()
    assert (step.from_status, step.to_status, step.by) == ("booked", "cancelled", patient_user)
    assert step.reason == "patient: Travelling"
    request = PortalRequest.objects.get()
    assert (request.kind, request.patient, request.message) == ("cancelled", patient, "Travelling")
    assert request.appointment == appointment and request.handled_at is None
    assert open_portal_requests(front_desk) == [request]
    assert AuditEvent.objects.filter(
        action="appointment.cancelled", actor=patient_user, patient_id=patient.pk
    ).exists()


def test_cancelling_without_a_reason_records_that_it_was_online(appointment, patient, patient_user):
    cancel(patient_user, patient, appointment, WEEK_BEFORE, reason="  ")
    assert PortalRequest.objects.get().message == "Cancelled online by the patient"
    assert appointment.transitions.last().reason == "patient: Cancelled online by the patient"


def test_cancelling_inside_the_window_is_refused_with_the_clinics_phone(
    appointment, patient, patient_user, clinic_phone
):
    with pytest.raises(ConflictError) as raised:
        cancel(patient_user, patient, appointment, LUNCH - timedelta(hours=23))
    assert raised.value.status_code == 409
    assert clinic_phone in raised.value.message
    assert "24 hours" in raised.value.message
    assert raised.value.extra["late"] is True
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert appointment.transitions.count() == 1
    assert not PortalRequest.objects.exists()


def test_the_window_follows_the_clinic_setting(appointment, patient, patient_user):
    settings = ClinicSettings.load()
    settings.cancellation_window_hours = 48
    settings.save()
    with pytest.raises(ConflictError) as raised:
        cancel(patient_user, patient, appointment, LUNCH - timedelta(hours=47))
    assert "48 hours" in raised.value.message
    assert "call the clinic" in raised.value.message  # no phone number set
    assert cancel(patient_user, patient, appointment, LUNCH - timedelta(hours=49)).status == (
        "cancelled"
    )


def test_another_patients_appointment_cannot_be_cancelled(
    clinic_setup, front_desk, patient, other_patient_user
):
    theirs = book(clinic_setup, front_desk, PatientFactory(portal_user=other_patient_user), LUNCH)
    with pytest.raises(Appointment.DoesNotExist):
        cancel(other_patient_user, patient, theirs, WEEK_BEFORE)  # patient is not the owner
    theirs.refresh_from_db()
    assert theirs.status == "booked"
    assert not PortalRequest.objects.exists()


@pytest.mark.parametrize("when", ["past", "cancelled"])
def test_a_past_or_cancelled_appointment_cannot_be_changed_online(
    appointment, patient, patient_user, front_desk, when
):
    now = WEEK_BEFORE
    if when == "past":
        now = LUNCH + timedelta(hours=1)
    else:
        services.appointment_cancel(
            actor=front_desk, appointment=appointment, by_patient=False, reason="x", now=now
        )
        appointment.refresh_from_db()
    with pytest.raises(ConflictError):
        cancel(patient_user, patient, appointment, now)
    with pytest.raises(ConflictError):
        services.portal_reschedule_request(
            actor=patient_user, patient=patient, appointment=appointment, message="Friday", now=now
        )
    assert not PortalRequest.objects.exists()


# -- confirming ---------------------------------------------------------------------------------


def test_the_patient_confirms_once_and_again_is_harmless(appointment, patient, patient_user):
    confirmed = services.portal_appointment_confirm(
        actor=patient_user, patient=patient, appointment=appointment, now=WEEK_BEFORE
    )
    assert confirmed.status == "confirmed"
    again = services.portal_appointment_confirm(
        actor=patient_user, patient=patient, appointment=confirmed, now=WEEK_BEFORE
    )
    assert again.status == "confirmed"
    assert appointment.transitions.count() == 2


# -- asking to move -----------------------------------------------------------------------------


def ask(patient_user, patient, appointment, message="Friday afternoon, please"):
    return services.portal_reschedule_request(
        actor=patient_user,
        patient=patient,
        appointment=appointment,
        message=message,
        now=WEEK_BEFORE,
    )


def test_a_reschedule_request_needs_a_message(appointment, patient, patient_user):
    with pytest.raises(ApplicationError) as raised:
        ask(patient_user, patient, appointment, message="   ")
    assert raised.value.field == "message" and raised.value.status_code == 400
    assert not PortalRequest.objects.exists()


def test_one_open_reschedule_request_per_appointment(
    appointment, patient, patient_user, front_desk
):
    request = ask(patient_user, patient, appointment)
    assert (request.kind, request.message) == ("reschedule", "Friday afternoon, please")
    assert AuditEvent.objects.filter(
        action="appointment.reschedule_requested", patient_id=patient.pk
    ).exists()
    with pytest.raises(ConflictError):
        ask(patient_user, patient, appointment, message="Or Saturday")
    assert PortalRequest.objects.count() == 1
    appointment.refresh_from_db()
    assert appointment.starts_at == LUNCH and appointment.status == "booked"  # nothing moved

    services.portal_request_handle(actor=front_desk, portal_request=request)
    assert ask(patient_user, patient, appointment, message="Or Saturday").pk != request.pk


def test_another_patients_appointment_cannot_be_asked_to_move(
    clinic_setup, front_desk, patient, patient_user
):
    theirs = book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(hours=2))
    with pytest.raises(Appointment.DoesNotExist):
        ask(patient_user, patient, theirs)
    assert not PortalRequest.objects.exists()


# -- front desk's inbox -------------------------------------------------------------------------


def test_handling_a_request_takes_it_out_of_the_inbox(
    clinic_setup, appointment, patient, patient_user, front_desk
):
    second = book(clinic_setup, front_desk, patient, LUNCH + timedelta(days=7))
    moved = ask(patient_user, patient, appointment)
    cancel(patient_user, patient, second, WEEK_BEFORE)
    inbox = open_portal_requests(front_desk)
    assert {r.kind for r in inbox} == {"reschedule", "cancelled"}
    handled_at = WEEK_BEFORE + timedelta(hours=1)
    handled = services.portal_request_handle(actor=front_desk, portal_request=moved, now=handled_at)
    assert (handled.handled_by, handled.handled_at) == (front_desk, handled_at)
    assert [r.kind for r in open_portal_requests(front_desk)] == ["cancelled"]
    # Handling twice keeps the first record and writes no second audit event.
    services.portal_request_handle(actor=front_desk, portal_request=moved)
    moved.refresh_from_db()
    assert moved.handled_at == handled_at
    assert AuditEvent.objects.filter(action="portal_request.handled").count() == 1


def test_the_inbox_is_for_front_desk_and_managers_only(patient_user, practitioner_user, manager):
    assert open_portal_requests(manager) == []
    for user in (patient_user, practitioner_user):
        with pytest.raises(Http404):
            open_portal_requests(user)


# -- calendar feed ------------------------------------------------------------------------------


def test_revoking_the_calendar_feed_changes_its_address(patient, patient_user):
    old = services.calendar_feed_for(patient).token
    assert services.calendar_feed_for(patient).token == old  # created once
    feed = services.calendar_feed_revoke(actor=patient_user, patient=patient)
    assert feed.token != old and len(feed.token) >= 32
    assert not CalendarFeed.objects.filter(token=old).exists()
    assert CalendarFeed.objects.get(patient=patient).token == feed.token
    assert AuditEvent.objects.filter(action="calendar_feed.revoked", patient_id=patient.pk).exists()


# -- the patient's schedule ---------------------------------------------------------------------


def test_the_portal_schedule_shows_only_the_patients_own_appointments_and_course(
    clinic_setup, front_desk, patient, patient_user, other_patient_user
):
    starts = [
        datetime.combine(date(2026, 12, 7) + timedelta(weeks=k), time(12, 30), tzinfo=NEW_YORK)
        for k in range(4)
    ]
    course = services.course_book(
        actor=front_desk,
        patient=patient,
        practitioner=clinic_setup["practitioner"],
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        room=clinic_setup["room"],
        starts=starts,
        interval_days=7,
    )
    book(
        clinic_setup,
        front_desk,
        PatientFactory(portal_user=other_patient_user),
        starts[0] + timedelta(hours=2),
    )
    first = course.appointments.order_by("starts_at").first()
    for step in ("appointment_check_in", "appointment_start", "appointment_complete"):
        getattr(services, step)(actor=front_desk, appointment=first)

    schedule = portal_schedule(patient_user, now=starts[1] - timedelta(days=1))
    assert schedule.patient == patient
    assert [a.starts_at for a in schedule.upcoming] == starts[1:]
    assert [a.session_number for a in schedule.upcoming] == [2, 3, 4]
    assert [a.pk for a in schedule.past] == [first.pk]
    assert {a.patient_id for a in schedule.upcoming + schedule.past} == {patient.pk}
    [progress] = schedule.courses
    assert (progress.done, progress.upcoming, progress.planned) == (1, 3, 4)
    assert progress.next_appointment.starts_at == starts[1]

    theirs = portal_schedule(other_patient_user, now=starts[0] - timedelta(days=1))
    assert len(theirs.upcoming) == 1 and theirs.courses == []


@pytest.mark.django_db(transaction=True)
def test_two_quick_reschedule_requests_open_only_one(clinic_setup, front_desk, patient_user):
    """Two taps from separate connections at once: the appointment lock lets one through."""
    import threading

    from django.db import connection

    patient = PatientFactory(portal_user=patient_user)
    appointment = book(clinic_setup, front_desk, patient, LUNCH)
    barrier = threading.Barrier(2)
    outcomes = []
    lock = threading.Lock()

    def attempt(message):
        try:
            barrier.wait()
            try:
                ask(patient_user, patient, appointment, message=message)
                result = "asked"
            except ConflictError:
                result = "conflict"
            except Exception as exc:  # noqa: BLE001 - any other failure must fail the test
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(m,)) for m in ("Friday", "Monday")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["asked", "conflict"], outcomes
    assert PortalRequest.objects.count() == 1
