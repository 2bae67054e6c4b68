"""Payments, overpayment to account credit, account credit, deposits, refunds and the
ledger: every operation keeps the balance equal to the sum of the ledger, and equal to what
is due on invoices less the account credit."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.models import Allocation, Invoice, LedgerEntry, Payment, Refund
from billing.selectors import account_credit_of, ledger_balance, patient_account
from clinic.errors import ApplicationError, ConflictError
from tests.fixtures.billing import assert_books_balance, booked_course, due, play_out

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def issued(prices, clinic_setup, front_desk, patient):
    """An issued invoice of 300.00 for the first session of a course (abdomen)."""
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    return services.invoice_issue(actor=front_desk, invoice=Invoice.objects.get(appointment=visit))


def test_a_partial_card_payment_then_cash_pays_it(issued, front_desk, patient):
    card = services.payment_take(
        actor=front_desk, invoice=issued, method="card", amount="100", reference="TERM-4411"
    )
    assert (card.applied, card.to_credit) == (D("100"), D("0"))
    assert due(issued) == D("200")
    cash = services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="200")
    assert cash.received_by == front_desk and cash.received_at is not None
    assert due(issued) == 0
    assert ledger_balance(patient.pk) == 0
    assert_books_balance(patient)


def test_an_overpayment_becomes_account_credit(issued, front_desk, patient):
    payment = services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="350")
    assert (payment.applied, payment.to_credit) == (D("300"), D("50"))
    assert account_credit_of(patient.pk) == D("50")
    assert ledger_balance(patient.pk) == D("-50")
    assert_books_balance(patient)


def test_account_credit_pays_a_later_invoice(issued, prices, clinic_setup, front_desk, patient):
    services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="380")
    course = issued.course
    second = play_out(
        course.appointments.order_by("starts_at")[1], front_desk, clinic_setup["practitioner"].user
    )
    invoice = services.invoice_issue(
        actor=front_desk, invoice=Invoice.objects.get(appointment=second)
    )
    with pytest.raises(ConflictError, match="only 80.00 USD of account credit"):
        services.payment_take(
            actor=front_desk, invoice=invoice, method="account_credit", amount="100"
        )
    services.payment_take(actor=front_desk, invoice=invoice, method="account_credit", amount="80")
    assert due(invoice) == D("220") and account_credit_of(patient.pk) == 0
    assert Allocation.objects.filter(invoice=invoice, source="account_credit").exists()
    assert_books_balance(patient)


@pytest.mark.parametrize("amount", ["0", "-10", "12.345", "abc", "NaN", "1e20"])
def test_bad_amounts_are_refused_and_nothing_is_written(issued, front_desk, amount):
    with pytest.raises(ApplicationError) as error:
        services.payment_take(actor=front_desk, invoice=issued, method="cash", amount=amount)
    assert error.value.field == "amount"
    assert not Payment.objects.exists() and LedgerEntry.objects.count() == 1


def test_a_card_payment_needs_the_terminal_reference(issued, front_desk):
    with pytest.raises(ApplicationError) as error:
        services.payment_take(actor=front_desk, invoice=issued, method="card", amount="10")
    assert error.value.field == "reference"


def test_a_currency_mismatch_is_refused(issued, front_desk):
    with pytest.raises(ConflictError, match="billed in USD") as error:
        services.payment_take(
            actor=front_desk, invoice=issued, method="cash", amount="10", currency="EUR"
        )
    assert error.value.status_code == 409 and not Payment.objects.exists()


def test_drafts_void_invoices_and_paid_invoices_cannot_be_paid(
    prices, clinic_setup, front_desk, patient
):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    draft = Invoice.objects.get(appointment=visit)
    with pytest.raises(ConflictError, match="Issue the invoice"):
        services.payment_take(actor=front_desk, invoice=draft, method="cash", amount="10")
    services.invoice_void(actor=front_desk, invoice=draft, reason="free")
    with pytest.raises(ConflictError, match="void"):
        services.payment_take(actor=front_desk, invoice=draft, method="cash", amount="10")
    invoice = services.invoice_issue(
        actor=front_desk,
        invoice=services.invoice_draft_for_appointment(actor=front_desk, appointment=visit),
    )
    services.payment_take(actor=front_desk, invoice=invoice, method="cash", amount="300")
    with pytest.raises(ConflictError, match="already paid"):
        services.payment_take(actor=front_desk, invoice=invoice, method="cash", amount="1")
    assert Payment.objects.count() == 1


def test_a_refund_goes_back_to_the_original_method_and_reopens_the_invoice(
    issued, front_desk, patient
):
    card = services.payment_take(
        actor=front_desk, invoice=issued, method="card", amount="300", reference="T-1"
    )
    with pytest.raises(ConflictError, match="At most 300.00 USD"):
        services.refund_issue(actor=front_desk, payment=card, amount="300.01", reason="x")
    refund = services.refund_issue(
        actor=front_desk, payment=card, amount="120", reason="Session shortened", reference="R-9"
    )
    assert refund.method == "card" and refund.refunded_by == front_desk
    assert due(issued) == D("120")
    assert ledger_balance(patient.pk) == D("120")
    with pytest.raises(ConflictError, match="At most 180.00 USD"):
        services.refund_issue(actor=front_desk, payment=card, amount="181", reason="x")
    with pytest.raises(ApplicationError):
        services.refund_issue(actor=front_desk, payment=card, amount="10", reason="")
    assert Refund.objects.count() == 1
    assert_books_balance(patient)


def test_crediting_a_paid_invoice_leaves_refundable_credit(issued, front_desk, patient):
    cash = services.payment_take(actor=front_desk, invoice=issued, method="cash", amount="300")
    services.credit_note_issue(actor=front_desk, invoice=issued, reason="Complaint upheld")
    assert account_credit_of(patient.pk) == D("300")
    assert ledger_balance(patient.pk) == D("-300")
    services.refund_issue(actor=front_desk, payment=cash, amount="300", reason="Complaint")
    assert ledger_balance(patient.pk) == 0 and account_credit_of(patient.pk) == 0
    assert due(issued) == 0
    assert_books_balance(patient)


def test_a_deposit_at_booking_pays_the_first_invoice_of_the_course(
    prices, clinic_setup, front_desk, patient
):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    deposit = services.deposit_take(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        method="card",
        amount="100",
        reference="DEP-1",
        course=course,
    )
    assert account_credit_of(patient.pk) == D("100")
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = services.invoice_issue(
        actor=front_desk, invoice=Invoice.objects.get(appointment=visit)
    )
    assert due(invoice) == D("200")
    assert Allocation.objects.get(invoice=invoice).payment == deposit
    assert account_credit_of(patient.pk) == 0
    assert_books_balance(patient)


def test_the_patient_ledger_shows_a_running_balance(issued, front_desk, patient):
    services.payment_take(
        actor=front_desk, invoice=issued, method="card", amount="100", reference="T"
    )
    account = patient_account(front_desk, patient)
    assert [e.balance_after for e in account.entries] == [D("300"), D("200")]
    assert account.balance == D("200") == sum(e.amount for e in account.entries)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["pay_cash", "pay_card", "credit", "refund", "use_credit", "deposit"]),
        st.integers(min_value=1, max_value=40000),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_the_ledger_always_balances_whatever_happens(
    operations, prices, clinic_setup, front_desk, patient
):
    """Random sequences of payments, overpayments, credits, refunds and uses of credit on a
    few invoices: refused ones change nothing, and after each step the balance is the sum of
    the ledger and equals invoices due less account credit."""
    from django.db import transaction

    sid = transaction.savepoint()
    try:
        course = booked_course(clinic_setup, front_desk, patient, sessions=3, areas=["abdomen"])
        invoices = []
        for visit in course.appointments.order_by("starts_at"):
            visit = play_out(visit, front_desk, clinic_setup["practitioner"].user)
            invoices.append(
                services.invoice_issue(
                    actor=front_desk, invoice=Invoice.objects.get(appointment=visit)
                )
            )
        for step, (operation, cents) in enumerate(operations):
            amount = D(cents) / 100
            invoice = invoices[step % len(invoices)]
            try:
                if operation == "pay_cash":
                    services.payment_take(
                        actor=front_desk, invoice=invoice, method="cash", amount=amount
                    )
                elif operation == "pay_card":
                    services.payment_take(
                        actor=front_desk,
                        invoice=invoice,
                        method="card",
                        amount=amount,
                        reference=f"T{step}",
                    )
                elif operation == "credit":
                    services.credit_note_issue(actor=front_desk, invoice=invoice, reason="x")
                elif operation == "refund":
                    payment = (
                        Payment.objects.filter(patient=patient)
                        .exclude(method="package")
                        .order_by("-id")
                        .first()
                    )
                    if payment:
                        services.refund_issue(
                            actor=front_desk, payment=payment, amount=amount, reason="x"
                        )
                elif operation == "use_credit":
                    services.payment_take(
                        actor=front_desk, invoice=invoice, method="account_credit", amount=amount
                    )
                else:
                    services.deposit_take(
                        actor=front_desk,
                        patient=patient,
                        location=clinic_setup["location"],
                        method="cash",
                        amount=amount,
                        course=course,
                    )
            except ApplicationError:
                pass
            assert_books_balance(patient)
    finally:
        transaction.savepoint_rollback(sid)
