"""Report totals against a day worked out by hand."""

from datetime import datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import reports, services
from billing.models import Invoice
from tests.fixtures.billing import booked_course, play_out
from tests.fixtures.scheduling import NEW_YORK

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def day():
    return timezone.localdate(timezone=NEW_YORK)


@pytest.fixture
def books(prices, clinic_setup, front_desk, manager, patient, day):
    """The day, by hand:

    - invoice A, abdomen 300.00: 300.00 cash (desk); 50.00 of it refunded (manager)
    - invoice B, abdomen 300.00 + flanks 100.00: card 150.00 (desk), card 100.00 (manager);
      the flanks line credited (credit note 100.00)
    - a package of 3 sessions for 900.00, paid by transfer (desk); one session drawn
      (a package session invoice of 300.00 paid by package credit)
    """
    noon = datetime.combine(day, time(12)).replace(tzinfo=NEW_YORK)
    doctor = clinic_setup["practitioner"].user
    one = booked_course(clinic_setup, front_desk, patient, sessions=1, areas=["abdomen"])
    a = Invoice.objects.get(appointment=play_out(one.appointments.get(), front_desk, doctor))
    a = services.invoice_issue(actor=front_desk, invoice=a, now=noon)
    cash = services.payment_take(actor=front_desk, invoice=a, method="cash", amount="300", now=noon)
    services.refund_issue(actor=manager, payment=cash, amount="50", reason="Goodwill", now=noon)
    two = booked_course(clinic_setup, front_desk, patient, sessions=1, areas=["abdomen", "flanks"])
    b = Invoice.objects.get(appointment=play_out(two.appointments.get(), front_desk, doctor))
    b = services.invoice_issue(actor=front_desk, invoice=b, now=noon)
    services.payment_take(
        actor=front_desk, invoice=b, method="card", amount="150", reference="T1", now=noon
    )
    services.payment_take(
        actor=manager, invoice=b, method="card", amount="100", reference="T2", now=noon
    )
    flanks = b.lines.get(area="flanks")
    services.credit_note_issue(
        actor=front_desk, invoice=b, reason="Not done", line_ids=[flanks.pk], now=noon
    )
    three = booked_course(clinic_setup, front_desk, patient, sessions=3, areas=["abdomen"])
    package = services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=None,
        sessions=None,
        price="900",
        course=three,
        now=noon,
    )
    services.payment_take(
        actor=front_desk, invoice=package.invoice, method="bank_transfer", amount="900", now=noon
    )
    first = three.appointments.order_by("starts_at").first()
    c = Invoice.objects.get(appointment=play_out(first, front_desk, doctor))
    services.invoice_issue(actor=front_desk, invoice=c, now=noon)
    return {"package": package}


def test_cash_up_by_method_and_by_user(books, front_desk, clinic_setup, day):
    cash_up = reports.cash_up(front_desk, day=day, zone=NEW_YORK, location=clinic_setup["location"])
    by_method = {label: (got, back, net, n) for label, got, back, net, n in cash_up.by_method}
    assert by_method["Cash"] == (D("300"), D("50"), D("250"), 1)
    assert by_method["Card"] == (D("250"), D("0"), D("250"), 2)
    assert by_method["Bank transfer"] == (D("900"), D("0"), D("900"), 1)
    assert (cash_up.total_received, cash_up.total_refunded, cash_up.total_net) == (
        D("1450"),
        D("50"),
        D("1400"),
    )
    assert cash_up.package_credit == D("300")
    by_user = {(who, method): (got, back) for who, method, got, back, _net in cash_up.by_user}
    assert by_user == {
        ("Fred Desk", "Cash"): (D("300"), D("0")),
        ("Fred Desk", "Card"): (D("150"), D("0")),
        ("Fred Desk", "Bank transfer"): (D("900"), D("0")),
        ("Mia Manager", "Card"): (D("100"), D("0")),
        ("Mia Manager", "Cash"): (D("0"), D("50")),
    }


def test_revenue_by_day_practitioner_and_area(books, front_desk, day):
    revenue = reports.revenue(front_desk, start=day, end=day, zone=NEW_YORK)
    # 300 + 400 + 900 (package sale) - 100 (credit note); the package session is not sold again.
    assert revenue.by_day == [(day, D("1500"), D("0"), D("1500"))]
    assert revenue.total_net == D("1500")
    assert revenue.by_practitioner == [("Dr Pia", D("600"), D("300")), ("—", D("900"), D("0"))]
    assert dict(revenue.by_area) == {"Abdomen": D("600"), "Flanks": D("0")}


def test_outstanding_balances_and_package_liabilities(books, front_desk, patient):
    rows = reports.outstanding_balances(front_desk)
    assert len(rows) == 1
    # Due: 50.00 on A (refunded) and 50.00 on B (400 - 100 credited - 250 paid).
    assert rows[0]["patient_id"] == patient.pk and rows[0]["balance"] == D("100")
    assert rows[0]["unpaid_count"] == 2
    packages = reports.package_liabilities(front_desk)
    assert [(p.remaining, p.remaining_value, p.paid) for p in packages] == [(2, D("600"), D("900"))]


def test_reports_are_for_billing_staff_only(books, practitioner_user, day):
    from django.http import Http404

    with pytest.raises(Http404):
        reports.cash_up(practitioner_user, day=day, zone=NEW_YORK)
