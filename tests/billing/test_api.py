"""The billing API: invoices (list, retrieve, issue, credit), payments (take, refund),
packages, the price list and ledgers; money as decimal strings; 400/409 with reasons;
the patient's own endpoints; fixed query counts for lists."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice, Package, Payment
from tests.factories import PatientFactory
from tests.fixtures.billing import booked_course, play_out

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def draft(prices, clinic_setup, front_desk, patient):
    course = booked_course(clinic_setup, front_desk, patient, areas=["abdomen", "flanks"])
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    return Invoice.objects.get(appointment=visit)


def test_issue_pay_and_credit_through_the_api(draft, front_desk, api):
    client = api(front_desk)
    body = client.get(f"/api/v1/invoices/{draft.pk}/").json()
    assert body["status"] == "draft" and body["total"] == "400.00"
    assert [line["total"] for line in body["lines"]] == ["300.00", "100.00"]
    issued = client.post(f"/api/v1/invoices/{draft.pk}/issue/").json()
    assert issued["number"].startswith("NYC-") and issued["state"] == "unpaid"
    response = client.post(
        "/api/v1/payments/",
        {"invoice": draft.pk, "method": "card", "amount": "150.00", "reference": "T-7"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["applied"] == "150.00"
    assert response.json()["invoice"]["due"] == "250.00"
    response = client.post(
        "/api/v1/payments/",
        {"invoice": draft.pk, "method": "cash", "amount": "300"},
        format="json",
    )
    assert response.json()["to_account_credit"] == "50.00"
    assert response.json()["invoice"]["state"] == "paid"
    note = client.post(
        f"/api/v1/invoices/{draft.pk}/credit/", {"reason": "Goodwill"}, format="json"
    )
    assert note.status_code == 201 and note.json()["kind"] == "credit_note"
    ledger = client.get(f"/api/v1/patients/{draft.patient_id}/ledger/").json()
    assert ledger["balance"] == "-450.00" and ledger["account_credit"] == "450.00"
    assert [e["amount"] for e in ledger["entries"]] == ["400.00", "-150.00", "-300.00", "-400.00"]
    payment = Payment.objects.get(method="cash")
    refund = client.post(
        f"/api/v1/payments/{payment.pk}/refund/",
        {"amount": "301", "reason": "Too much"},
        format="json",
    )
    assert refund.status_code == 409 and "At most 300.00 USD" in refund.json()["detail"]
    refund = client.post(
        f"/api/v1/payments/{payment.pk}/refund/",
        {"amount": "300", "reason": "Goodwill"},
        format="json",
    )
    assert refund.status_code == 201 and refund.json()["method"] == "cash"


def test_api_refusals_are_400_or_409_with_a_reason(draft, front_desk, api):
    client = api(front_desk)
    pay = {"invoice": draft.pk, "method": "cash", "amount": "10"}
    response = client.post("/api/v1/payments/", pay, format="json")
    assert response.status_code == 409 and "Issue the invoice" in response.json()["detail"]
    client.post(f"/api/v1/invoices/{draft.pk}/issue/")
    response = client.post(f"/api/v1/invoices/{draft.pk}/issue/")
    assert response.status_code == 409 and "credit note" in response.json()["detail"]
    for amount in ("0", "-1"):
        response = client.post("/api/v1/payments/", {**pay, "amount": amount}, format="json")
        assert response.status_code == 400 and "amount" in response.json(), amount
    response = client.post("/api/v1/payments/", {**pay, "amount": "abc"}, format="json")
    assert response.status_code == 400
    response = client.post("/api/v1/payments/", {**pay, "currency": "EUR"}, format="json")
    assert response.status_code == 409 and response.json()["currency"]
    response = client.post(
        "/api/v1/payments/", {**pay, "method": "card"}, format="json"
    )  # no reference
    assert response.status_code == 400 and "reference" in response.json()
    response = client.post(f"/api/v1/invoices/{draft.pk}/credit/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert not Payment.objects.exists()


def test_packages_and_price_list_through_the_api(prices, clinic_setup, front_desk, patient, api):
    client = api(front_desk)
    course = booked_course(clinic_setup, front_desk, patient, sessions=10, areas=["abdomen"])
    response = client.post(
        "/api/v1/packages/",
        {"patient": patient.pk, "course": course.pk, "price": "3400"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["sessions_total"], body["remaining"], body["price"]) == (10, 10, "3400.00")
    response = client.post(
        "/api/v1/packages/",
        {"patient": patient.pk, "course": course.pk, "price": "3400"},
        format="json",
    )
    assert response.status_code == 409
    response = client.post(
        "/api/v1/packages/",
        {
            "patient": patient.pk,
            "appointment_type": clinic_setup["type"].pk,
            "sessions": 0,
            "price": "10",
        },
        format="json",
    )
    assert response.status_code == 400 and "sessions" in response.json()
    assert client.get(f"/api/v1/packages/?patient={patient.pk}").json()["count"] == 1
    price_list = client.get("/api/v1/price-list/").json()
    assert price_list["currency"] == "USD" and price_list["no_show_fee"] == "75.00"
    assert {"area": "abdomen", "tier": "large", "amount": "380.00"} in price_list["areas"]
    assert client.get("/api/v1/price-list/?on=2020-01-01").status_code == 404


def test_filters(draft, front_desk, api):
    client = api(front_desk)
    assert client.get("/api/v1/invoices/?status=draft").json()["count"] == 1
    assert client.get("/api/v1/invoices/?status=issued").json()["count"] == 0
    services.invoice_issue(actor=front_desk, invoice=draft)
    assert client.get("/api/v1/invoices/?unpaid=true").json()["count"] == 1
    assert client.get(f"/api/v1/invoices/?patient={draft.patient_id}").json()["count"] == 1
    assert client.get("/api/v1/invoices/?patient=999999").json()["count"] == 0


def test_the_patient_sees_only_their_own_issued_invoices(
    draft, front_desk, patient, patient_user, other_patient_user, api
):
    patient.portal_user = patient_user
    patient.save()
    me = api(patient_user)
    assert me.get("/api/v1/me/invoices/").json()["count"] == 0  # drafts are not shown
    assert me.get(f"/api/v1/me/invoices/{draft.pk}/").status_code == 404
    services.invoice_issue(actor=front_desk, invoice=draft)
    assert me.get("/api/v1/me/invoices/").json()["count"] == 1
    assert me.get(f"/api/v1/me/invoices/{draft.pk}/").json()["total"] == "400.00"
    assert me.get("/api/v1/me/ledger/").json()["balance"] == "400.00"
    PatientFactory(portal_user=other_patient_user)
    other = api(other_patient_user)
    assert other.get("/api/v1/me/invoices/").json()["count"] == 0
    assert other.get(f"/api/v1/me/invoices/{draft.pk}/").status_code == 404
    assert other.get("/api/v1/me/ledger/").json()["entries"] == []
    for url in (
        "/api/v1/invoices/",
        f"/api/v1/invoices/{draft.pk}/",
        "/api/v1/payments/",
        "/api/v1/packages/",
        "/api/v1/price-list/",
        f"/api/v1/patients/{patient.pk}/ledger/",
    ):
        assert me.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["practitioner_user", "patient_user"])
def test_only_front_desk_and_managers_bill_through_the_api(draft, role, request, api):
    client = api(request.getfixturevalue(role))
    assert client.get("/api/v1/invoices/").status_code == 403
    assert client.post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 403
    assert client.post("/api/v1/payments/", {}, format="json").status_code == 403
    assert client.post("/api/v1/packages/", {}, format="json").status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft" and not Package.objects.exists()


def test_manager_may_bill_too(draft, manager, api):
    assert api(manager).post(f"/api/v1/invoices/{draft.pk}/issue/").status_code == 200


def test_anonymous_is_refused(draft, api):
    assert api().get("/api/v1/invoices/").status_code in (401, 403)


@pytest.mark.parametrize(
    "url",
    ["/api/v1/invoices/", "/api/v1/payments/", "/api/v1/packages/", "PATIENT_LEDGER"],
)
def test_api_lists_cost_a_fixed_number_of_queries(
    url, prices, clinic_setup, front_desk, patient, api, django_assert_max_num_queries
):
    course = booked_course(clinic_setup, front_desk, patient, sessions=6, areas=["abdomen"])
    services.package_sell(
        actor=front_desk,
        patient=patient,
        location=clinic_setup["location"],
        appointment_type=None,
        sessions=3,
        price="900",
        course=course,
    )
    for visit in course.appointments.order_by("starts_at"):
        invoice = Invoice.objects.get(
            appointment=play_out(visit, front_desk, clinic_setup["practitioner"].user)
        )
        invoice = services.invoice_issue(actor=front_desk, invoice=invoice)
        if not invoice.lines.filter(kind="package_session").exists():
            services.payment_take(actor=front_desk, invoice=invoice, method="cash", amount="50")
    if url == "PATIENT_LEDGER":
        url = f"/api/v1/patients/{patient.pk}/ledger/"
    client = api(front_desk)
    client.get(url)
    # The ledger also reads the patient, invoices, payments with refunds and packages.
    with django_assert_max_num_queries(16 if "ledger" in url else 12):
        assert client.get(url).status_code == 200


def test_a_deposit_through_the_api_pays_the_first_invoice(
    prices, clinic_setup, front_desk, patient, api
):
    course = booked_course(clinic_setup, front_desk, patient, sessions=2, areas=["abdomen"])
    client = api(front_desk)
    response = client.post(
        "/api/v1/payments/",
        {"course": course.pk, "method": "cash", "amount": "120"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["payment"]["purpose"] == "deposit"
    assert response.json()["to_account_credit"] == "120.00"
    assert (
        client.post(
            "/api/v1/payments/", {"method": "cash", "amount": "1"}, format="json"
        ).status_code
        == 400
    )
    visit = play_out(
        course.appointments.order_by("starts_at").first(),
        front_desk,
        clinic_setup["practitioner"].user,
    )
    invoice = Invoice.objects.get(appointment=visit)
    body = client.post(f"/api/v1/invoices/{invoice.pk}/issue/").json()
    assert body["due"] == "180.00" and body["state"] == "part_paid"
