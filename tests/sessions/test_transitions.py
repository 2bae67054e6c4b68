from datetime import timedelta

import pytest

from clinic.errors import ApplicationError, ConflictError
from clinic.models import AuditEvent
from sessions import services
from tests.factories import PatientFactory
from tests.fixtures.scheduling import BEFORE_THE_BOOKINGS, LUNCH, book

pytestmark = [pytest.mark.django_db, BEFORE_THE_BOOKINGS]


@pytest.fixture
def appointment(clinic_setup, front_desk):
    return book(clinic_setup, front_desk, PatientFactory(), LUNCH)


def test_the_whole_visit_is_recorded_step_by_step(appointment, front_desk, practitioner_user):
    services.appointment_confirm(actor=front_desk, appointment=appointment)
    services.appointment_check_in(actor=front_desk, appointment=appointment)
    services.appointment_start(actor=practitioner_user, appointment=appointment)
    done = services.appointment_complete(actor=practitioner_user, appointment=appointment)
    assert done.status == "completed"
    steps = [(t.from_status, t.to_status, t.by) for t in done.transitions.all()]
    assert steps == [
        ("", "booked", front_desk),
        ("booked", "confirmed", front_desk),
        ("confirmed", "checked_in", front_desk),
        ("checked_in", "in_progress", practitioner_user),
        ("in_progress", "completed", practitioner_user),
    ]
    assert AuditEvent.objects.filter(
        action="appointment.completed", patient_id=appointment.patient_id
    ).exists()


@pytest.mark.parametrize(
    "illegal",
    ["appointment_start", "appointment_complete"],
)
def test_illegal_status_changes_are_refused_with_409(appointment, front_desk, illegal):
    with pytest.raises(ConflictError) as raised:
        getattr(services, illegal)(actor=front_desk, appointment=appointment)
    assert raised.value.status_code == 409
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_a_completed_appointment_cannot_be_cancelled(appointment, front_desk):
    for step in ("appointment_check_in", "appointment_start", "appointment_complete"):
        getattr(services, step)(actor=front_desk, appointment=appointment)
    with pytest.raises(ConflictError):
        services.appointment_cancel(
            actor=front_desk, appointment=appointment, by_patient=True, reason="x"
        )


def test_cancelling_inside_the_window_is_recorded_as_late(appointment, front_desk):
    cancelled = services.appointment_cancel(
        actor=front_desk,
        appointment=appointment,
        by_patient=True,
        reason="Ill",
        now=appointment.starts_at - timedelta(hours=3),
    )
    assert cancelled.cancelled_late is True
    assert cancelled.transitions.last().reason == "patient (late): Ill"


def test_cancelling_early_is_not_late_and_frees_the_slot(
    clinic_setup,
    appointment,
    front_desk,
):
    services.appointment_cancel(
        actor=front_desk,
        appointment=appointment,
        by_patient=False,
        reason="Practitioner ill",
        now=appointment.starts_at - timedelta(days=3),
    )
    again = book(clinic_setup, front_desk, PatientFactory(), LUNCH)
    assert again.pk != appointment.pk


def test_cancelling_needs_a_reason(appointment, front_desk):
    with pytest.raises(ApplicationError) as raised:
        services.appointment_cancel(
            actor=front_desk, appointment=appointment, by_patient=False, reason="  "
        )
    assert raised.value.field == "reason"


def test_no_show_only_after_the_start(appointment, front_desk):
    with pytest.raises(ConflictError):
        services.appointment_mark_no_show(
            actor=front_desk, appointment=appointment, now=appointment.starts_at - timedelta(1)
        )
    missed = services.appointment_mark_no_show(
        actor=front_desk,
        appointment=appointment,
        now=appointment.starts_at + timedelta(minutes=20),
    )
    assert missed.status == "no_show"
