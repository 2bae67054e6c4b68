from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from consultations.models import Product
from sessions.models import AppointmentType
from sessions.services import appointment_book, appointment_check_in
from tests.factories import MedicalHistoryFactory, PatientFactory
from tests.sessions.conftest import (  # noqa: F401
    NEW_YORK,
    clinic_setup,
    give_hours,
    second_practitioner,
)


@pytest.fixture
def consult_type(db):
    return AppointmentType.objects.create(
        name="Consultation", kind="consultation", duration_minutes=45
    )


@pytest.fixture
def consult_patient(patient_user):
    """A patient with a portal login and a medical history (version 1) without alerts."""
    patient = PatientFactory(portal_user=patient_user)
    MedicalHistoryFactory(patient=patient)
    return patient


@pytest.fixture
def product(db):
    return Product.objects.create(name="PPC + DC", composition="Phosphatidylcholine 5%")


def book_consultation(setup, actor, patient, appointment_type, *, hour=10, check_in=True):
    """A consultation appointment today (New York), checked in unless told otherwise."""
    today = timezone.localdate(timezone=NEW_YORK)
    appointment = appointment_book(
        actor=actor,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=appointment_type,
        room=setup["room"],
        starts_at=datetime.combine(today, datetime.min.time()).replace(tzinfo=NEW_YORK)
        + timedelta(hours=hour),
        allow_outside_hours=True,
    )
    if check_in:
        appointment = appointment_check_in(actor=actor, appointment=appointment)
    return appointment


@pytest.fixture
def consult_appointment(clinic_setup, front_desk, consult_patient, consult_type):  # noqa: F811
    return book_consultation(clinic_setup, front_desk, consult_patient, consult_type)


from tests.consultations.session_fixtures import (  # noqa: E402, F401
    expired_lot,
    lot,
    treatment_appointment,
)
