"""The catalogue under races: a product or lot added twice at the same moment (two managers,
a double submit) is a 409 naming the row that won, never a 500 from the unique constraint."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from clinic.errors import ConflictError
from consultations.models import Product, ProductLot
from consultations.services.lots import lot_add, product_add
from tests.clock import clinic_today

pytestmark = pytest.mark.django_db(transaction=True)


def _insert_and_hold(create, started, release):
    """In another connection: insert the row, tell the test, wait, then commit."""
    try:
        with transaction.atomic():
            create()
            started.set()
            release.wait(10)
    finally:
        connection.close()


def _race(create, call):
    started, release = threading.Event(), threading.Event()
    other = threading.Thread(target=_insert_and_hold, args=(create, started, release))
    other.start()
    assert started.wait(10)
    # The test's insert waits on the other transaction's uncommitted row; commit it then.
    threading.Timer(0.5, release.set).start()
    try:
        with pytest.raises(ConflictError) as caught:
            call()
    finally:
        release.set()
        other.join(10)
    return caught.value


def test_a_product_added_twice_at_once_is_a_conflict_with_the_winner(manager):
    error = _race(
        lambda: Product.objects.create(name="PPC + DC"),
        lambda: product_add(actor=manager, name="PPC + DC"),
    )
    winner = Product.objects.get(name="PPC + DC")
    assert error.status_code == 409 and error.field == "name"
    assert error.extra["id"] == winner.pk
    assert Product.objects.count() == 1


def test_a_lot_registered_twice_at_once_is_a_conflict_with_the_winner(manager):
    product = Product.objects.create(name="PPC + DC")
    expires = clinic_today() + timedelta(days=400)
    error = _race(
        lambda: ProductLot.objects.create(product=product, lot_number="L-1", expires_on=expires),
        lambda: lot_add(actor=manager, product=product, lot_number="L-1", expires_on=expires),
    )
    winner = ProductLot.objects.get(product=product, lot_number="L-1")
    assert error.status_code == 409 and error.field == "lot_number"
    assert error.extra["id"] == winner.pk
    assert ProductLot.objects.count() == 1
