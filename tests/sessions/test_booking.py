import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent, Location, Practitioner, Room
from sessions.models import Appointment
from sessions.services import SlotTakenError
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, book, give_hours

# They name dates of 2026 as ahead or behind: the clock is pinned before them.
pytestmark = BEFORE_THE_BOOKINGS


@pytest.mark.django_db
def test_booking_takes_the_default_length_and_holds_the_buffer(clinic_setup, front_desk):
    appointment = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.blocked_until - appointment.ends_at == timedelta(minutes=10)
    assert appointment.transitions.get().to_status == "booked"
    assert AuditEvent.objects.filter(
        action="appointment.booked", patient_id=appointment.patient_id
    ).exists()


@pytest.mark.django_db
def test_a_clash_names_the_booked_appointment(clinic_setup, front_desk):
    first = book(clinic_setup, front_desk, PatientFactory(legal_first_name="Zoé"), LUNCH)
    # Starts inside the first appointment's buffer: the practitioner is still held.
    with pytest.raises(SlotTakenError) as raised:
        book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(minutes=35))
    assert raised.value.status_code == 409
    assert raised.value.extra["conflict"]["id"] == first.pk
    assert "Zoé" in raised.value.message and "12:30" in raised.value.message
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_after_the_buffer_the_slot_is_free_and_a_cancelled_one_frees_it(clinic_setup, front_desk):
    first = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    book(clinic_setup, front_desk, PatientFactory(), LUNCH + timedelta(minutes=40))
    Appointment.objects.filter(pk=first.pk).update(status="cancelled")
    book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    assert Appointment.objects.exclude(status="cancelled").count() == 2


@pytest.mark.django_db
def test_a_patient_cannot_be_in_two_rooms_at_once(clinic_setup, front_desk, manager):
    patient = PatientFactory()
    book(clinic_setup, front_desk, patient, LUNCH)
    other = Practitioner.objects.create(user=manager, display_name="Max")
    give_hours(other, clinic_setup["location"])
    room2 = Room.objects.create(location=clinic_setup["location"], name="Room 2")
    with pytest.raises(SlotTakenError) as raised:
        book(clinic_setup, front_desk, patient, LUNCH, practitioner=other, room=room2)
    assert patient.full_name in raised.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": LUNCH}, "end"),
        ({"ends_at": LUNCH - timedelta(minutes=5)}, "end"),
        ({"starts_at": datetime(2026, 12, 1, 12, 30)}, "start"),  # no offset
    ],
)
def test_impossible_bookings_are_refused_with_the_field(clinic_setup, front_desk, overrides, field):
    with pytest.raises(ApplicationError) as raised:
        book(clinic_setup, front_desk, PatientFactory(), LUNCH, **overrides)
    assert raised.value.field == field
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_without_a_room_the_booking_takes_a_free_one_or_is_refused_on_the_room(
    clinic_setup, front_desk, second_practitioner
):
    first = book(clinic_setup, front_desk, PatientFactory(), LUNCH, room=None)
    assert first.room == clinic_setup["room"]
    with pytest.raises(ApplicationError) as raised:
        book(
            clinic_setup,
            front_desk,
            PatientFactory(),
            LUNCH,
            practitioner=second_practitioner,
            room=None,
        )
    assert raised.value.field == "room" and "No room is free" in raised.value.message
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_practitioner_at_another_location_and_archived_patient_are_refused(
    clinic_setup, front_desk
):
    elsewhere = Location.objects.create(name="Elsewhere", code="ELS")
    with pytest.raises(ApplicationError) as raised:
        book(clinic_setup, front_desk, PatientFactory(), LUNCH, location=elsewhere, room=None)
    assert raised.value.field == "practitioner"
    with pytest.raises(ApplicationError) as raised:
        book(clinic_setup, front_desk, PatientFactory(is_active=False), LUNCH)
    assert raised.value.field == "patient"


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_bookings_of_one_slot_exactly_one_wins(clinic_setup, front_desk):
    """Separate connections race for the same practitioner and room at the same time."""
    patients = [PatientFactory() for _ in range(20)]
    barrier = threading.Barrier(len(patients))
    outcomes = []
    lock = threading.Lock()

    def attempt(patient):
        try:
            barrier.wait()
            try:
                book(clinic_setup, front_desk, patient, LUNCH)
                result = "booked"
            except ConflictError:
                result = "conflict"
            except Exception as exc:  # noqa: BLE001 - any other failure must fail the test
                result = f"error: {exc!r}"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["conflict"] * 19, outcomes
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_the_database_itself_refuses_an_overlap_that_skips_the_service(clinic_setup, front_desk):
    from django.db import IntegrityError, transaction

    first = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    overlapping = Appointment(
        patient=PatientFactory(),
        practitioner=first.practitioner,
        location=first.location,
        appointment_type=first.appointment_type,
        starts_at=LUNCH + timedelta(minutes=15),
        ends_at=LUNCH + timedelta(minutes=45),
        blocked_until=LUNCH + timedelta(minutes=45),
    )
    with (
        pytest.raises(IntegrityError, match="appointment_no_double_booking_practitioner"),
        transaction.atomic(),
    ):
        overlapping.save()
