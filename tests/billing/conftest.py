"""Billing test scene: the scheduling tests' clinic (New York, Dr Pia, a room), a price list
in force since 2026, and helpers to play a visit out to completed."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import services
from billing.models import AreaTier, TaxRate
from clinic.models import ClinicSettings
from sessions.models import AppointmentType
from sessions.services import (
    appointment_book,
    appointment_check_in,
    appointment_complete,
    appointment_start,
    course_book,
)
from tests.clock import clinic_today
from tests.factories import PatientFactory
from tests.sessions.conftest import NEW_YORK, clinic_setup, give_hours  # noqa: F401

D = Decimal


def prices_from():
    """Prices in force since a year before the suite's today, so every visit a test books
    (weeks around today) is priced."""
    return clinic_today() - timedelta(days=365)


@pytest.fixture
def consultation_type(db):
    return AppointmentType.objects.create(
        name="Consultation", kind="consultation", duration_minutes=45
    )


def make_prices(actor, clinic_setup, consultation_type, **rules):  # noqa: F811
    defaults = {
        "additional_areas": "percent",
        "additional_area_value": D("50"),
        "small_area_max_ml": D("2"),
        "large_area_min_ml": D("10"),
        "no_show_fee": D("75.00"),
        "late_cancellation_fee": D("50.00"),
        "consultation_credited": True,
    }
    defaults.update(rules)
    return services.price_list_create(
        actor=actor,
        effective_from=rules.pop("effective_from", None) or prices_from(),
        rules=defaults,
        sessions={consultation_type.pk: D("150.00")},
        areas={
            ("abdomen", AreaTier.SMALL): D("220.00"),
            ("abdomen", AreaTier.STANDARD): D("300.00"),
            ("abdomen", AreaTier.LARGE): D("380.00"),
            ("flanks", AreaTier.STANDARD): D("200.00"),
            ("face", AreaTier.STANDARD): D("250.00"),
        },
    )


@pytest.fixture
def prices(manager, clinic_setup, consultation_type):  # noqa: F811
    return make_prices(manager, clinic_setup, consultation_type)


@pytest.fixture
def vat(db):
    return TaxRate.objects.create(name="VAT", rate=D("20"))


@pytest.fixture
def patient(db):
    return PatientFactory(legal_first_name="Zoé", legal_last_name="Dubois")


_slot = {"n": 0}


def next_start(days_ago=2):
    """A distinct past weekday slot for each visit of a test (09:00 + n hours)."""
    _slot["n"] = (_slot["n"] + 1) % 9
    day = timezone.localdate(timezone=NEW_YORK) - timedelta(days=days_ago)
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=NEW_YORK) + timedelta(
        hours=9 + _slot["n"]
    )


def play_out(appointment, desk, doctor):
    appointment = appointment_check_in(actor=desk, appointment=appointment)
    appointment = appointment_start(actor=doctor, appointment=appointment)
    return appointment_complete(actor=doctor, appointment=appointment)


def completed_visit(setup, desk, patient, *, appointment_type=None, start=None):  # noqa: F811
    appointment = appointment_book(
        actor=desk,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=appointment_type or setup["type"],
        room=setup["room"],
        starts_at=start or next_start(),
        allow_outside_hours=True,
    )
    return play_out(appointment, desk, setup["practitioner"].user)


def booked_course(setup, desk, patient, *, sessions=10, areas=("abdomen", "flanks"), first=None):  # noqa: F811
    first = first or next_start(days_ago=30)
    return course_book(
        actor=desk,
        patient=patient,
        practitioner=setup["practitioner"],
        location=setup["location"],
        appointment_type=setup["type"],
        starts=[first + timedelta(weeks=k) for k in range(sessions)],
        interval_days=7,
        room=setup["room"],
        areas=list(areas),
        allow_outside_hours=True,
    )


@pytest.fixture
def clinic_usd(db):
    settings = ClinicSettings.load()
    settings.currency = "USD"
    settings.save()
    return settings


@pytest.fixture
def product(db):
    from consultations.models import Product

    return Product.objects.create(name="Lipolytic blend", composition="PPC 5% + DC 2.5%")


@pytest.fixture
def lot(product):
    from consultations.models import ProductLot

    return ProductLot.objects.create(
        product=product, lot_number="L-2026-01", expires_on=clinic_today() + timedelta(days=3 * 365)
    )


def sign_session(setup, desk, patient, areas, *, product, lot, appointment=None):  # noqa: F811
    """Book (or take) a visit, check the patient in and sign its session record through the
    clinical record's own services: ``areas`` is a list of (area, volume in ml)."""
    from consultations.services.session_records import (
        session_record_save_draft,
        session_record_sign,
        session_record_start,
    )

    doctor = setup["practitioner"].user
    if appointment is None:
        appointment = appointment_book(
            actor=desk,
            patient=patient,
            practitioner=setup["practitioner"],
            location=setup["location"],
            appointment_type=setup["type"],
            room=setup["room"],
            starts_at=next_start(),
            allow_outside_hours=True,
        )
    appointment = appointment_check_in(actor=desk, appointment=appointment)
    record = session_record_start(actor=doctor, appointment=appointment)
    session_record_save_draft(
        actor=doctor,
        record=record,
        data={
            "alerts_reviewed": True,
            "no_side_effects_since_last": True,
            "tolerance": "good",
            "aftercare_given": "No sauna for 24 hours.",
        },
        areas=[
            {
                "area": area,
                "product": product,
                "lot": lot,
                "volume_ml": D(volume),
                "injection_points": 20,
                "depth_mm": D("4"),
                "technique": "point_by_point",
                "needle_gauge": 30,
                "needle_length_mm": D("4"),
            }
            for area, volume in areas
        ],
    )
    return session_record_sign(actor=doctor, record=record)
