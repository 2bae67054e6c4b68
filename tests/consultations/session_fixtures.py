"""Fixtures for the treatment-session record: a treatment appointment checked in today (New
York), a product with a good and an expired lot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consultations.models import ProductLot
from sessions.services import appointment_book, appointment_check_in
from tests.clock import clinic_today, local_moment
from tests.consultations.conftest import NEW_YORK


def book_treatment(setup, actor, patient, *, hour=11, days=0, check_in=True, **overrides):
    """A treatment session ``days`` from today at ``hour`` (New York), checked in unless told
    otherwise."""
    day = timezone.localdate(timezone=NEW_YORK) + timedelta(days=days)
    kwargs = {
        "actor": actor,
        "patient": patient,
        "practitioner": setup["practitioner"],
        "location": setup["location"],
        "appointment_type": setup["type"],
        "room": setup["room"],
        "starts_at": local_moment(day, hour, zone=NEW_YORK),
        "allow_outside_hours": True,
    }
    kwargs.update(overrides)
    appointment = appointment_book(**kwargs)
    if check_in:
        appointment = appointment_check_in(actor=actor, appointment=appointment)
    return appointment


@pytest.fixture
def lot(product):
    return ProductLot.objects.create(
        product=product, lot_number="PC-2026-118", expires_on=clinic_today() + timedelta(days=365)
    )


@pytest.fixture
def expired_lot(product):
    return ProductLot.objects.create(
        product=product, lot_number="PC-2024-007", expires_on=clinic_today() - timedelta(days=1)
    )


@pytest.fixture
def treatment_appointment(clinic_setup, front_desk, consult_patient):
    return book_treatment(clinic_setup, front_desk, consult_patient)


def area_row(product, lot, area="abdomen", **overrides):
    """One treated area as the services take it."""
    row = {
        "area": area,
        "product": product.pk,
        "lot": lot.pk,
        "volume_ml": "4.00",
        "injection_points": 40,
        "depth_mm": "4.0",
        "technique": "point_by_point",
        "needle_gauge": 30,
        "needle_length_mm": "4.0",
        "points": [],
    }
    row.update(overrides)
    return row


def complete_draft(product, lot, **areas_overrides):
    """Everything a record needs to be signed, as keyword arguments of save_draft."""
    return {
        "data": {"alerts_reviewed": True, "no_side_effects_since_last": True, "tolerance": "good"},
        "areas": [area_row(product, lot, **areas_overrides)],
    }
