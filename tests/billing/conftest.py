"""Billing test scene: the scheduling tests' clinic (New York, Dr Pia, a room), a price list
in force since 2026, and helpers to play a visit out to completed."""

from datetime import timedelta

import pytest

from tests.clock import clinic_today
from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(legal_first_name="Zoé", legal_last_name="Dubois")


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
