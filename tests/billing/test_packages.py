"""Packages: sold with their invoice, paid in instalments, each completed session of the
course draws one session instead of billing its price, refused past its sessions,
cancelled with a credit for what was not delivered."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice, Package, PackageDraw, Payment
from billing.selectors import account_credit_of, ledger_balance, package_queryset_for_user
from clinic.errors import ApplicationError, ConflictError
from tests.fixtures.billing import assert_books_balance, booked_course, due, play_out, sign_session

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def course(prices, clinic_setup, front_desk, patient):
    return booked_course(clinic_setup, front_desk, patient, sessions=10, areas=["abdomen"])


@pytest.fixture
def package(course, clinic_setup, front_desk, patient):
    # 10 sessions for the price of 8.5 (8.5 x 400.00).
    return services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=None,
        sessions=None,
        price="3400.00",
        course=course,
    )


def sessions_left(user, package):
    return package_queryset_for_user(user).get(pk=package.pk).remaining


def test_selling_a_package_issues_its_invoice_paid_in_instalments(package, front_desk, patient):
    invoice = package.invoice
    assert invoice.status == "issued" and invoice.purpose == "package"
    assert invoice.total == D("3400") and package.sessions_total == 10
    services.payment_take(
        actor=front_desk, invoice=invoice, method="card", amount="1700", reference="T-1"
    )
    services.payment_take(actor=front_desk, invoice=invoice, method="bank_transfer", amount="1700")
    assert due(invoice) == 0 and ledger_balance(patient.pk) == 0


def test_each_completed_session_draws_one_session_instead_of_its_price(
    package, course, clinic_setup, front_desk, patient, product, lot
):
    visits = list(course.appointments.order_by("starts_at"))
    # Flanks are not in the plan: billed on top; the abdomen is covered by the package.
    record = sign_session(
        clinic_setup,
        front_desk,
        patient,
        [("abdomen", "5"), ("flanks", "4")],
        product=product,
        lot=lot,
        appointment=visits[0],
    )
    invoice = Invoice.objects.get(appointment=record.appointment)
    kinds = [(line.kind, line.total) for line in invoice.lines.order_by("position")]
    assert kinds[0] == ("package_session", D("340"))
    # An area outside the plan is an additional area of the same session (50 % of 200.00).
    assert [k for k, _ in kinds] == ["package_session", "additional_area"]
    assert "not in the plan" in invoice.lines.order_by("position")[1].description
    assert sessions_left(front_desk, package) == 9
    invoice = services.invoice_issue(actor=front_desk, invoice=invoice)
    package_credit = Payment.objects.get(method="package", invoice=invoice)
    assert package_credit.amount == D("340")
    assert due(invoice) == D("100")  # only the flanks are left to pay
    assert_books_balance(patient)


def test_a_package_is_refused_past_its_sessions(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, sessions=3, areas=["abdomen"])
    package = services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=None,
        sessions=2,
        price="500",
        course=course,
    )
    visits = [
        play_out(v, front_desk, clinic_setup["practitioner"].user)
        for v in course.appointments.order_by("starts_at")
    ]
    values = [d.value for d in PackageDraw.objects.filter(package=package)]
    assert values == [D("250"), D("250")]
    package.refresh_from_db()
    assert package.status == "used"
    # The third session is billed at the price list; drawing it anyway is refused.
    third = Invoice.objects.get(appointment=visits[2])
    assert [line.kind for line in third.lines.all()] == ["area"]
    with pytest.raises(ConflictError, match="no sessions left"):
        services.package_draw(actor=front_desk, package=package, appointment=visits[2])
    assert PackageDraw.objects.filter(package=package).count() == 2


def test_shares_add_up_to_the_package_price(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, sessions=3, areas=["abdomen"])
    package = services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=None,
        sessions=3,
        price="1000.00",
        course=course,
    )
    for visit in course.appointments.order_by("starts_at"):
        play_out(visit, front_desk, clinic_setup["practitioner"].user)
    values = [d.value for d in PackageDraw.objects.filter(package=package).order_by("id")]
    assert values == [D("333.33"), D("333.34"), D("333.33")] and sum(values) == D("1000")


def test_voiding_a_package_session_draft_gives_the_session_back(
    package, course, clinic_setup, front_desk
):
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    assert sessions_left(front_desk, package) == 9
    services.invoice_void(
        actor=front_desk,
        invoice=Invoice.objects.get(appointment=visit),
        reason="Entered on the wrong patient",
    )
    assert sessions_left(front_desk, package) == 10


def test_crediting_a_package_session_returns_it_to_the_package(
    package, course, clinic_setup, front_desk, patient
):
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = services.invoice_issue(
        actor=front_desk, invoice=Invoice.objects.get(appointment=visit)
    )
    services.credit_note_issue(actor=front_desk, invoice=invoice, reason="Session not done")
    assert sessions_left(front_desk, package) == 10
    assert_books_balance(patient)


def test_cancelling_a_package_credits_the_undelivered_sessions(
    package, course, clinic_setup, front_desk, patient
):
    services.payment_take(actor=front_desk, invoice=package.invoice, method="cash", amount="3400")
    for visit in course.appointments.order_by("starts_at")[:3]:
        invoice = Invoice.objects.get(
            appointment=play_out(visit, front_desk, clinic_setup["practitioner"].user)
        )
        services.invoice_issue(actor=front_desk, invoice=invoice)
    note = services.package_cancel(actor=front_desk, package=package, reason="Moving away")
    assert note.total == D("2380")  # 7 x 340.00
    package.refresh_from_db()
    assert package.status == "cancelled"
    assert account_credit_of(patient.pk) == D("2380")
    assert ledger_balance(patient.pk) == D("-2380")
    assert_books_balance(patient)
    with pytest.raises(ConflictError):
        services.package_cancel(actor=front_desk, package=package, reason="again")


@pytest.mark.parametrize(
    ("sessions", "price", "field"),
    [(0, "100", "sessions"), (51, "100", "sessions"), (5, "0", "price"), (5, "-1", "price")],
)
def test_bad_packages_are_refused(
    prices, clinic_setup, front_desk, patient, sessions, price, field
):
    with pytest.raises(ApplicationError) as error:
        services.package_sell(
            actor=front_desk,
            patient=patient,
            location=clinic_setup["location"],
            appointment_type=clinic_setup["type"],
            sessions=sessions,
            price=price,
        )
    assert error.value.field == field
    assert not Package.objects.exists() and not Invoice.objects.exists()


def test_one_active_package_per_course(package, course, clinic_setup, front_desk, patient):
    with pytest.raises(ConflictError, match="already has an active package"):
        services.package_sell(
            actor=front_desk,
            patient=patient,
            location=clinic_setup["location"],
            appointment_type=None,
            sessions=None,
            price="100",
            course=course,
        )


def test_a_package_sold_before_the_course_is_tied_to_it_at_booking(
    prices, clinic_setup, front_desk, patient
):
    package = services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=clinic_setup["type"],
        sessions=5,
        price="1500",
    )
    course = booked_course(clinic_setup, front_desk, patient, sessions=5, areas=["abdomen"])
    package.refresh_from_db()
    assert package.course == course
