"""The billing API: every list of patients' billing data read through the
API is on the audit trail (as the pages are), and money endpoints answer bad input with a
400 or 409 and change nothing."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice, LedgerEntry, Payment, Refund
from clinic.models import AuditEvent
from tests.fixtures.billing import booked_course, play_out

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def issued(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen", "flanks"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = Invoice.objects.get(appointment=visit)
    return services.invoice_issue(actor=front_desk, invoice=invoice)


def _pay_and_sell(invoice, desk):
    services.payment_take(actor=desk, invoice=invoice, method="cash", amount=D("50"))
    services.package_sell(
        actor=desk,
        patient=invoice.patient,
        location=invoice.location,
        appointment_type=invoice.appointment.appointment_type,
        sessions=5,
        price=D("1000"),
    )


@pytest.mark.parametrize(
    ("url", "action"),
    [
        ("/api/v1/invoices/", "invoices.listed"),
        ("/api/v1/payments/", "payments.listed"),
        ("/api/v1/packages/", "packages.listed"),
    ],
)
def test_staff_api_lists_of_billing_are_audited(api, issued, front_desk, url, action):
    _pay_and_sell(issued, front_desk)
    response = api(front_desk).get(f"{url}?patient={issued.patient_id}")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=action)
    assert event.actor == front_desk and event.patient_id == issued.patient_id


@pytest.mark.parametrize(
    ("url", "action"),
    [("/api/v1/me/invoices/", "invoices.listed"), ("/api/v1/me/packages/", "packages.listed")],
)
def test_the_patients_own_api_lists_are_audited(
    api, issued, front_desk, patient, patient_user, url, action
):
    _pay_and_sell(issued, front_desk)
    patient.portal_user = patient_user
    patient.save()
    response = api(patient_user).get(url)
    assert response.status_code == 200
    event = AuditEvent.objects.get(action=action)
    assert event.actor == patient_user and event.patient_id == patient.pk


def _nothing_moved(before):
    assert (Payment.objects.count(), Refund.objects.count(), LedgerEntry.objects.count()) == before


@pytest.mark.parametrize(
    "amount", ["0", "-5", "abc", "NaN", "Infinity", "1e30", "99999999999999", "10.001", None, []]
)
def test_bad_payment_amounts_are_400(api, issued, front_desk, amount):
    before = (Payment.objects.count(), Refund.objects.count(), LedgerEntry.objects.count())
    response = api(front_desk).post(
        "/api/v1/payments/",
        {"invoice": issued.pk, "method": "cash", "amount": amount},
        format="json",
    )
    assert response.status_code == 400, response.content
    _nothing_moved(before)


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "1e30", "10.001", "NaN"])
def test_bad_refund_amounts_are_400(api, issued, front_desk, amount):
    payment = services.payment_take(
        actor=front_desk, invoice=issued, method="cash", amount=D("100")
    )
    before = (Payment.objects.count(), Refund.objects.count(), LedgerEntry.objects.count())
    response = api(front_desk).post(
        f"/api/v1/payments/{payment.pk}/refund/",
        {"amount": amount, "reason": "Test"},
        format="json",
    )
    assert response.status_code == 400, response.content
    _nothing_moved(before)


def test_refund_above_what_was_paid_is_409(api, issued, front_desk):
    payment = services.payment_take(
        actor=front_desk, invoice=issued, method="cash", amount=D("100")
    )
    client = api(front_desk)
    url = f"/api/v1/payments/{payment.pk}/refund/"
    assert client.post(url, {"amount": "60", "reason": "x"}, format="json").status_code == 201
    response = client.post(url, {"amount": "40.01", "reason": "x"}, format="json")
    assert response.status_code == 409
    assert Refund.objects.count() == 1


def test_paying_a_void_draft_is_409(api, prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    draft = Invoice.objects.get(appointment=visit)
    services.invoice_void(actor=front_desk, invoice=draft, reason="Duplicate")
    response = api(front_desk).post(
        "/api/v1/payments/", {"invoice": draft.pk, "method": "cash", "amount": "10"}, format="json"
    )
    assert response.status_code == 409 and not Payment.objects.exists()


@pytest.mark.parametrize("lines", [["abc"], [999999999], [10**30]])
def test_credit_note_with_unknown_lines_is_400(api, issued, front_desk, lines):
    response = api(front_desk).post(
        f"/api/v1/invoices/{issued.pk}/credit/", {"reason": "x", "lines": lines}, format="json"
    )
    assert response.status_code == 400, response.content
    assert not Invoice.objects.filter(kind="credit_note").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"price": "-1"},
        {"price": "1e30"},
        {"price": "abc"},
        {"sessions": 10**12, "price": "10"},
        {"sessions": -1, "price": "10"},
    ],
)
def test_bad_package_sales_are_400(api, clinic_setup, prices, front_desk, patient, body):
    data = {"patient": patient.pk, "appointment_type": clinic_setup["type"].pk, "sessions": 5}
    response = api(front_desk).post("/api/v1/packages/", {**data, **body}, format="json")
    assert response.status_code == 400, response.content


def test_payment_ids_out_of_range_are_404_not_500(api, front_desk):
    client = api(front_desk)
    assert client.get("/api/v1/invoices/99999999999999999999/").status_code == 404
    response = client.post(
        "/api/v1/payments/",
        {"invoice": 10**20, "method": "cash", "amount": "10"},
        format="json",
    )
    assert response.status_code in (400, 404)
